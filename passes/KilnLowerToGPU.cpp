//===- KilnLowerToGPU.cpp - tile IR to the gpu dialect, tiles over threads -===//
//
// The pass: checks each kernel, assigns its tiles' layouts and lowers it into a
// gpu.func with a KernelLowering (passes/GPU/KernelLowering.h, whose parts are defined
// by concern in passes/GPU/*.cpp).
//
#include "passes/GPU/KernelLowering.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/Dialect/LLVMIR/XeVMDialect.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNLOWERTOGPU
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

LogicalResult KernelLowering::lower(FuncOp kernel) {
  Location loc = kernel.getLoc();
  Block &entry = kernel.getBody().front();
  for (auto [arg, newArg] : llvm::zip(entry.getArguments(), func.getArguments())) {
    if (auto desc = dyn_cast<DescType>(arg.getType()))
      descs[arg] = unpackDesc(b, loc, newArg, desc.getRank());
    else
      scalars.map(arg, newArg);
  }
  Value tid = b.create<gpu::ThreadIdOp>(loc, gpu::Dimension::x);
  threadId = b.create<arith::IndexCastOp>(loc, b.getI32Type(), tid);
  spreadId = threadId;
  if (cluster > 1) {
    Value clusterRank = b.create<NVVM::ClusterId>(loc, b.getI32Type());
    spreadId = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, clusterRank, cst(loc, threads)), threadId);
  }
  if (failed(warpSpecialized ? lowerWarpSpecialized(kernel) : lowerBlock(entry)))
    return failure();
  createArenas(loc);
  if (tensorMapCount > 0)
    func->setAttr(kScratchBytesAttr, b.getI64IntegerAttr(tensorMapCount * kTensorMapBytes));
  return success();
}

int64_t mlir::kiln::sharedMemoryBytes(gpu::GPUFuncOp func) {
  auto attr = func->getAttrOfType<IntegerAttr>(kSharedBytesAttr);
  return attr ? attr.getInt() : 0;
}

int64_t mlir::kiln::clusterBlocks(gpu::GPUFuncOp func) {
  auto attr = func->getAttrOfType<IntegerAttr>(kClusterAttr);
  return attr ? attr.getInt() : 1;
}

int64_t mlir::kiln::globalScratchBytes(gpu::GPUFuncOp func) {
  auto attr = func->getAttrOfType<IntegerAttr>(kScratchBytesAttr);
  return attr ? attr.getInt() : 0;
}

namespace {

/// NVIDIA: a thread of a program of `threads` may have 65536 / threads registers
/// (registerBudget). A dot's result tile alone takes its share of the elements;
/// with fewer than kMmaRegisterSlack left besides, ptxas cannot allocate the MMAs (it
/// stops with "Insufficient registers"), so such a tile gets a diagnostic here.
constexpr int64_t kMmaRegisterSlack = 24;
LogicalResult checkRegisterBudget(FuncOp kernel, int64_t threads) {
  int64_t budget = ::kiln::schedule::registerBudget(65536, threads);
  WalkResult result = kernel.walk([&](DotOp dot) {
    RankedTensorType t = dot.getType();
    int64_t bytes = (getElementBitWidth(t.getElementType()) + 7) / 8;
    int64_t need = llvm::divideCeil(t.getNumElements() * std::max<int64_t>(bytes, 4) / 4, threads);
    if (need + kMmaRegisterSlack <= budget)
      return WalkResult::advance();
    dot.emitOpError("registers: the ")
        << t.getDimSize(0) << "x" << t.getDimSize(1) << " result takes " << need
        << " registers per thread across " << threads << " threads, and a thread may have "
        << budget << " (65536 / " << threads << ", at most 255); its MMAs need about "
        << kMmaRegisterSlack << " more. Use fewer threads per program or a smaller tile";
    return WalkResult::interrupt();
  });
  return failure(result.wasInterrupted());
}

/// A program spread over `cluster` blocks keeps each thread's elements where they are;
/// ops that move elements between threads (other than reductions to a scalar, which
/// combine across the cluster) or act once per program are not lowered that way.
LogicalResult checkClusterOps(FuncOp kernel, int64_t cluster, int64_t threads) {
  WalkResult result = kernel.walk([&](Operation *op) {
    auto reject = [&](StringRef why) {
      op->emitOpError("is not supported in a program spread over a cluster of ")
          << cluster << " thread blocks: " << why
          << "; drop `cluster` or express it with elementwise ops and reductions";
      return WalkResult::interrupt();
    };
    if (isa<DotOp, ScanOp, BroadcastOp, TransposeOp>(op))
      return reject("its elements would cross thread blocks");
    if (auto reduce = dyn_cast<ReduceOp>(op)) {
      RankedTensorType t = reduce.getInput().getType();
      if (t.getRank() != 1 || t.getNumElements() < cluster * threads)
        return reject("only a 1-D tile of at least one element per thread reduces across "
                      "the cluster");
    }
    if (auto atomic = dyn_cast<AtomicAddOp>(op); atomic && !isa<RankedTensorType>(atomic.getType()))
      return reject("a scalar atomic runs once per program");
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

struct KilnLowerToGPUPass : mlir::kiln::impl::KilnLowerToGPUBase<KilnLowerToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (failed(checkStaticTiles(module)))
      return signalPassFailure();
    if (threads <= 0 || warpSize <= 0 || threads % warpSize != 0) {
      module.emitError("threads (") << threads << ") must be a positive multiple of the warp size ("
                                    << warpSize << ")";
      return signalPassFailure();
    }
    if (!mma.empty() && mma != "nvidia-m16n8k16" && mma != "nvidia-wgmma" && mma != "amd-mfma" &&
        mma != "amd-wmma" && mma != "intel-dpas") {
      module.emitError("unknown MMA atom '")
          << mma << "' (known: nvidia-m16n8k16, nvidia-wgmma, amd-mfma, amd-wmma, intel-dpas)";
      return signalPassFailure();
    }
    if (stages < 1) {
      module.emitError("stages (") << stages << ") must be at least 1";
      return signalPassFailure();
    }
    SmallVector<FuncOp> kernels(module.getOps<FuncOp>());
    if (kernels.empty())
      return;
    if (failed(checkElementArithmetic(module)))
      return signalPassFailure();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto gpuModule = b.create<gpu::GPUModuleOp>(module.getLoc(), "kiln_kernels");
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), UnitAttr::get(ctx));
    b.setInsertionPointToStart(gpuModule.getBody());
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    for (FuncOp kernel : kernels) {
      // A kernel's own num_threads overrides the pass option.
      int64_t blockThreads = kernel.getNumThreads().value_or(threads);
      if (blockThreads % warpSize != 0) {
        kernel.emitError("num_threads (")
            << blockThreads << ") must be a multiple of the warp size (" << warpSize << ")";
        return signalPassFailure();
      }
      SmallVector<Type> params;
      for (auto [i, type] : llvm::enumerate(kernel.getArgumentTypes())) {
        if (kernel.isConstexprParam(i)) {
          emitError(kernel.getBody().getArgument(i).getLoc(), "constexpr parameter '")
              << kernel.getParamName(i) << "' must be bound (kiln-specialize) before lowering";
          return signalPassFailure();
        }
        if (isa<PtrType>(type)) {
          params.push_back(ptrType);
        } else if (auto desc = dyn_cast<DescType>(type)) {
          auto arr = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 64), desc.getRank());
          params.push_back(LLVM::LLVMStructType::getLiteral(ctx, {ptrType, arr, arr}));
        } else {
          params.push_back(type);
        }
      }
      bool nvidia = mma == "nvidia-m16n8k16" || mma == "nvidia-wgmma";
      int64_t atom = mma == "amd-mfma"     ? kAmdMfma32x32x8
                     : mma == "amd-wmma"   ? kAmdWmma16x16x16
                     : mma == "intel-dpas" ? kIntelDpas8x16x16
                                           : 0;
      if (atom == kIntelDpas8x16x16 && warpSize != 16) {
        module.emitError("intel-dpas needs sub-groups of 16 lanes (warp-size=16)");
        return signalPassFailure();
      }
      // Targets without clusters run the same program on one block.
      int64_t cluster = std::min<int64_t>(kernel.getCluster().value_or(1), maxCluster);
      if (cluster > 1 && failed(checkClusterOps(kernel, cluster, blockThreads)))
        return signalPassFailure();
      DistributionTarget target{blockThreads, warpSize, nvidia, mma == "nvidia-wgmma", atom,
                                std::max<int64_t>(cluster, 1)};
      if (nvidia && failed(checkRegisterBudget(kernel, blockThreads)))
        return signalPassFailure();
      // A pipeline deeper than the chip's shared memory holds gets fewer stages (the same
      // kernel must fit an A100's 163 KiB and an H100's 227 KiB), with a warning.
      int64_t want = kernel.getNumStages().value_or(stages);
      int64_t limit = maxSharedBytes.getValue();
      int64_t previous = std::numeric_limits<int64_t>::max();
      for (int64_t depth = want;; --depth) {
        auto func = b.create<gpu::GPUFuncOp>(kernel.getLoc(), kernel.getSymName(),
                                             b.getFunctionType(params, {}));
        func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), UnitAttr::get(ctx));
        // A producer warpgroup runs beside the program's threads (sm_90a; others ignore it).
        bool ws = kernel.getWarpSpecialize() && mma == "nvidia-wgmma";
        int32_t launched = blockThreads + (ws ? ::kiln::schedule::kProducerThreads : 0);
        func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({launched, 1, 1}));
        // ptxas fits the registers so that this many programs share a multiprocessor.
        if (auto programs = kernel.getMinProgramsPerSm(); programs && nvidia)
          func->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                        b.getI32IntegerAttr(*programs));
        if (target.cluster > 1) {
          func->setAttr(NVVM::NVVMDialect::getClusterDimAttrName(),
                        b.getDenseI32ArrayAttr({(int32_t)target.cluster, 1, 1}));
          func->setAttr(kClusterAttr, b.getI64IntegerAttr(target.cluster));
        }
        KernelLowering lowering(func, kernel, target, depth, dynamicShared, tma, ws, pingPong,
                                intraOverlap);
        if (failed(lowering.lower(kernel)))
          return signalPassFailure();
        int64_t shared = sharedMemoryBytes(func);
        if (shared <= limit) {
          if (depth < want)
            kernel.emitWarning("kernel '")
                << kernel.getSymName() << "' runs " << depth << " pipeline stages instead of "
                << want << ": " << depth + 1 << " would need more than the " << limit / 1024
                << " KiB of shared memory a program may use here";
          break;
        }
        // Give up at one stage, or when a stage fewer saved nothing (no pipelined loop).
        if (depth <= 1 || shared >= previous) {
          kernel.emitError("shared memory: kernel '")
              << kernel.getSymName() << "' needs " << shared << " bytes ("
              << llvm::divideCeil(shared, 1024)
              << " KiB) for its tiles and exchanges; the limit is " << limit << " bytes ("
              << limit / 1024 << " KiB)";
          return signalPassFailure();
        }
        // Try again shallower: drop this attempt and its static arena.
        if (Operation *g = SymbolTable::lookupSymbolIn(gpuModule, staticArenaSymbol(kernel.getSymName())))
          g->erase();
        func.erase();
        previous = shared;
      }
    }
    for (FuncOp kernel : kernels)
      kernel.erase();
  }
};

} // namespace
