//===- KilnLowerToGPU.cpp - tile IR to the gpu dialect, tiles over threads -===//
//
// Each program instance becomes one thread block (workgroup) of `threads` threads, and
// each tile value lives where LayoutAssignment put it:
//  - Blocked registers, row-major: thread t holds `vec` consecutive elements, then the
//    chunk `threads * vec` further on, and so on, so neighbouring threads touch
//    neighbouring addresses (coalesced) in contiguous runs (vector access). Element k of
//    thread t has the linear index ((k / vec) * threads + t) * vec + k % vec.
//  - MMA accumulator registers: the m16n8 C fragments of a grid of warps; a dot keeps
//    its accumulator there across a K loop and feeds its atoms from shared memory with
//    ldmatrix.
//  - Shared tiles: loads read only by dots are copied global -> shared (cp.async, 16
//    bytes per thread, into a swizzle the layout library picks for the copy and for
//    ldmatrix); inside a loop those copies run `stages - 1` iterations ahead.
// A program spread over a thread-block cluster (`cluster` blocks, NVIDIA) distributes
// blocked tiles over all its threads, block r's thread t acting as thread
// r * threads + t; a reduction to a scalar then combines the blocks' partials through
// distributed shared memory.
// Consumers needing another layout convert through shared memory. Shared memory is two
// arenas per kernel: persistent (shared tiles, pipeline stages) and scratch (live within
// one op's lowering, reused by the next op after a barrier). The output is
// target-neutral (gpu, scf, arith, math, LLVM memory ops) except for the NVIDIA atoms
// the `mma` option enables; a target pipeline lowers it to NVVM or ROCDL.
//
#include "dialects/Kiln/KilnDialect.h"
#include "kiln/Layout/Analysis.h"
#include "kiln/Layout/Atoms.h"
#include "kiln/Schedule/Attention.h"
#include "passes/ElementLowering.h"
#include "passes/LayoutAssignment.h"
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/Dialect/LLVMIR/XeVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <limits>

#define DEBUG_TYPE "kiln-lower-to-gpu"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNLOWERTOGPU
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

/// With dynamic shared memory, every kernel of the module addresses this block (CUDA's
/// `extern __shared__`) and a launch passes the kernel's `kiln.shared_memory_bytes`;
/// otherwise each kernel declares its own, `__kiln_smem_<kernel>`.
static constexpr StringLiteral kDynamicShared = "__kiln_dynamic_smem";
static constexpr StringLiteral kSharedBytesAttr = "kiln.shared_memory_bytes";
/// Thread blocks per program (a cluster); absent for one.
static constexpr StringLiteral kClusterAttr = "kiln.cluster";

/// A kernel's own static shared-memory block (targets without dynamic shared memory).
static std::string staticArenaSymbol(StringRef kernel) { return ("__kiln_smem_" + kernel).str(); }

namespace {

/// A tile type with the layout its registers follow.
struct Dist {
  RankedTensorType type;
  TileLayout layout;
};

/// A tile in shared memory: `rows` x `cols` elements of `elem` (as its storage type),
/// stored as column blocks of `blockCols`, each row-major (rows x blockCols), element
/// offsets permuted by `swizzle`.
struct SharedTile {
  Value base; // !llvm.ptr<3>
  int64_t rows = 0, cols = 0, blockCols = 0;
  Type elem;
  ::kiln::layout::Swizzle swizzle;
  /// Element (r, c) of the tile is stored at (c, r): rows/cols/blockCols describe the
  /// stored (transposed) tile. A wgmma B operand read from a column-major view of a
  /// row-major tensor (Kᵀ in attention) is stored K-major this way.
  bool transposed = false;
};

/// A TMA tensor map in global memory (`address`, i64) and whether TMA may address the
/// tensor at all (`usable`, uniform i1: 16-byte aligned base and row pitch, unit-stride
/// rows); when not, the same copies go by cp.async.
struct TensorMap {
  Value address, usable;
};
static constexpr int64_t kTensorMapBytes = 128;
static constexpr StringLiteral kScratchBytesAttr = "kiln.global_scratch_bytes";

/// A dot-only load on Intel: nothing is read at the load; each dot reads its fragments
/// with 2D block reads when `direct` (uniform i1) says the block-read rules hold for this
/// tensor and offset, else lane by lane.
struct BlockIOTile {
  mutable LoadOp load;
  SmallVector<Value> offsets;
  Value direct;
  Value widthBytes, height, pitchBytes; // i32, for the 2D block reads
};

/// The swizzle for a `rows` x `cols` tile of 16-bit elements written in 16-byte chunks
/// (one per thread, row-major) and read by ldmatrix.x4, chosen by counting bank conflicts.
::kiln::layout::Swizzle ldmatrixSwizzle(int64_t rows, int64_t cols) {
  using namespace ::kiln::layout;
  auto str = [](int64_t v) { return std::to_string(v); };
  int64_t perRow = cols / 8; // chunks per row
  if (rows < 16 || (perRow < 32 && 32 % perRow != 0))
    return {};
  // Thread t writes chunk t: row t / perRow, columns 8 * (t % perRow) + [0, 8).
  std::string threadShape = perRow >= 32 ? "32" : "(" + str(perRow) + "," + str(32 / perRow) + ")";
  std::string threadStride = perRow >= 32 ? str(8 * rows) : "(" + str(8 * rows) + ",1)";
  auto smem = parseLayout("(" + str(rows) + "," + str(cols) + "):(" + str(cols) + ",1)");
  auto writer = parseLayout("(" + threadShape + ",8):(" + threadStride + "," + str(rows) + ")");
  auto embed = parseLayout("(16,16):(1," + str(rows) + ")");
  if (!smem || !writer || !embed)
    return {};
  auto reader = composition(*embed, nvidiaLdmatrixX4().source);
  if (!reader)
    return {};
  auto choice = swizzleSearch(*smem, {*writer, 8, 16}, {*reader, 8, 16});
  return choice ? choice->swizzle : Swizzle{};
}

/// The TV tables of a MatrixAtom (f16 and bf16 share the fragments) from the layout
/// library.
const ::kiln::layout::MmaAtom &matrixAtom(int64_t atom) {
  static const std::vector<::kiln::layout::MmaAtom> atoms = ::kiln::layout::allMmaAtoms();
  llvm::StringRef name = atom == kAmdMfma32x32x8    ? "v_mfma_f32_32x32x8_f16"
                         : atom == kAmdWmma16x16x16 ? "v_wmma_f32_16x16x16_f16"
                                                    : "dpas.8x16x16.f32.f16.f16";
  for (const auto &a : atoms)
    if (a.name == name)
      return a;
  llvm_unreachable("matrix atom missing from the layout library");
}

/// Lowers the body of one kernel into a gpu.func.
class KernelLowering {
public:
  KernelLowering(gpu::GPUFuncOp func, FuncOp kernel, const DistributionTarget &target,
                 int64_t stages, bool dynamicShared, bool useTma, bool warpSpecialize = false,
                 bool pingPong = false, bool intraOverlap = true)
      : warpSpecialized(warpSpecialize), pingPong(pingPong), intraOverlap(intraOverlap),
        func(func), threads(target.threads),
        spread(target.threads * target.cluster),
        cluster(target.cluster), warpSize(target.warpSize), target(target),
        stages(stages), dynamicShared(dynamicShared), useTma(useTma), layouts(kernel, target),
        b(OpBuilder::atBlockBegin(&func.getBody().front())) {}

  LogicalResult lower(FuncOp kernel) {
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

private:
  // --- warp specialisation (sm_90a) ----------------------------------------------
  //
  // The program's threads [0, threads) are the consumers; 128 more (a producer
  // warpgroup) run only the kernel's top-level pipelined loops' copies: per stage a
  // `full` mbarrier (TMA bytes landed) and an `empty` one (every consumer thread done
  // reading). Both sides carry (stage, phase) from loop to loop, so consecutive loops
  // (a causal kernel's unmasked and masked key loops) share one pipeline. The consumers
  // compute what the producer needs (loop bounds, descriptors, copy offsets) and post
  // it in a shared mailbox before their first pipelined loop.
  bool warpSpecialized = false;
  /// Lowering the consumers' side: barriers name the consumers only.
  bool consumerSide = false;
  static constexpr int64_t kProducerThreads = ::kiln::schedule::kProducerThreads;
  DenseMap<Operation *, SmallVector<LoadOp>> wsLoads;
  /// Loads before the first pipelined loop that only later ops read: the consumers copy
  /// them once the mailbox is posted (see postMailbox).
  SmallPtrSet<Operation *, 4> deferredLoads;
  DenseMap<Operation *, SetVector<Operation *>> wsSlices;
  SmallVector<scf::ForOp> wsLoops;
  /// Values the consumers post for the producer, one 8-byte slot per scalar (a
  /// descriptor's base, sizes and strides each take one).
  SmallVector<Value> mailboxValues;
  Value mailbox;
  SmallVector<SharedTile> wsBuffers;
  Value fullBarriers, emptyBarriers, handOffBarriers, wsTmaOk;
  /// Where the next pipelined loop starts: its stage and that stage's phase.
  Value wsStage, wsPhase;
  /// Consumer warpgroups take turns at issuing the MMAs of overlapped loops (see
  /// lowerOverlappedFor).
  bool pingPong = false;
  /// Loops with a producer issue the last MMA group of an iteration in the next one,
  /// after its first (see lowerOverlappedFor).
  bool intraOverlap = true;
  /// While lowering a loop that takes turns: the MMA group a turn starts with (waits
  /// for it) and the one it ends with (passes it on after).
  DotOp turnStart, turnEnd;
  static constexpr int64_t kFirstTurnBarrier = 5;

  gpu::GPUFuncOp func;
  /// Threads of one block; of the whole program (`cluster` blocks); blocks per program.
  int64_t threads, spread, cluster, warpSize;
  DistributionTarget target;
  int64_t stages;
  bool dynamicShared;
  bool useTma;
  LayoutAssignment layouts;
  OpBuilder b;
  Value threadId;
  /// This thread's index among the program's threads (threadId without a cluster).
  Value spreadId;
  /// A cluster barrier arrived at after the last exchange, not yet waited for: blocks
  /// may still read this block's partials until it completes.
  bool clusterArrivePending = false;
  /// Softmax normalizers over a cluster (normalizerSum): the sum's block maximum, and
  /// the exponentials it sums.
  DenseMap<Operation *, Value> localMax;
  DenseMap<Operation *, math::ExpOp> normalizerExp;
  IRMapping scalars;
  DenseMap<Value, SmallVector<Value>> tiles;
  DenseMap<Value, Value> splatScalars;
  DenseMap<Value, SharedTile> sharedTiles;
  DenseMap<Value, BlockIOTile> blockIOTiles;
  DenseMap<Value, DescParts> descs;
  /// Registers of a tile converted to another layout, by (tile, layout key); dropped on
  /// leaving a region so no conversion is used outside the block it was made in.
  DenseMap<std::pair<Value, int64_t>, SmallVector<Value>> converted;
  /// Pipelined loads of the loop being lowered: their stage-buffer tile per iteration.
  DenseMap<Value, SharedTile> pipelined;
  /// TMA tensor maps of the pipelined loads of the loop being lowered.
  DenseMap<Operation *, TensorMap> tensorMaps;
  /// The trailing kernel parameter: global scratch, `kTensorMapBytes` per map and program.
  Value scratchArg;
  int64_t tensorMapCount = 0;
  /// Inside a loop whose warpgroup MMAs may stay in flight into the next iteration.
  bool deferWgmmaWait = false;
  /// Tiles whose warpgroup MMAs are in flight, oldest first (one commit group each).
  SmallVector<Value> pendingWgmma;
  /// Pipelined loads (indices) released in `stage` as soon as a wait finds `dot`'s MMAs
  /// done: an overlapped loop's head loads, which the producer may then refill while
  /// the softmax runs.
  struct EarlyRelease {
    Value dot, stage;
    SmallVector<int64_t> loads;
  };
  std::optional<EarlyRelease> earlyRelease;
  /// Warpgroup-MMA dots whose accumulation is a run-time flag (false on a loop's first
  /// iteration, when the accumulator registers hold nothing yet).
  DenseMap<Operation *, Value> wgmmaAccumulate;

  // --- shared memory ------------------------------------------------------------

  // One dynamic shared-memory block per kernel: persistent buffers first, then scratch,
  // whose offset is known once the persistent total is (patched at the end).
  Value persistentArena, scratchArena;
  LLVM::ConstantOp scratchOffset;
  // persistentBytes is the persistent arena's top (pipelined loops free their stages at
  // their end, so sequential loops share them); persistentHigh its high-water mark.
  int64_t persistentBytes = 0, persistentHigh = 0, scratchCursor = 0, scratchBytes = 0;
  bool scratchFenced = false;

  Type sharedPtrType() { return LLVM::LLVMPointerType::get(b.getContext(), 3); }

  std::string arenaSymbol() {
    return dynamicShared ? kDynamicShared.str() : staticArenaSymbol(func.getName());
  }

  Value arena(bool persistent) {
    if (!persistentArena) {
      OpBuilder entry = OpBuilder::atBlockBegin(&func.getBody().front());
      persistentArena = entry.create<LLVM::AddressOfOp>(
          func.getLoc(), sharedPtrType(), FlatSymbolRefAttr::get(b.getContext(), arenaSymbol()));
    }
    if (persistent)
      return persistentArena;
    if (!scratchArena) {
      OpBuilder entry(b.getContext());
      entry.setInsertionPointAfterValue(persistentArena);
      scratchOffset = entry.create<LLVM::ConstantOp>(func.getLoc(), b.getI32Type(), 0);
      scratchArena = entry.create<LLVM::GEPOp>(func.getLoc(), sharedPtrType(), b.getI8Type(),
                                               persistentArena, ValueRange{scratchOffset});
    }
    return scratchArena;
  }

  /// `bytes` of shared memory. Persistent buffers live for the whole kernel; scratch
  /// lives until the next op's lowering, which fences the reuse with a barrier.
  Value sharedAlloc(Location loc, int64_t bytes, bool persistent, int64_t align = 16) {
    // 1024: the period of the 128-byte swizzle wgmma descriptors assume.
    if (persistent)
      return persistentAlloc(loc, bytes, 1024);
    if (!scratchFenced) {
      // Threads may still be reading what the previous op left here.
      syncThreads(loc);
      scratchFenced = true;
    }
    int64_t offset = llvm::alignTo(scratchCursor, align);
    scratchCursor = offset + bytes;
    scratchBytes = std::max(scratchBytes, scratchCursor);
    return b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), arena(false),
                                 ArrayRef<LLVM::GEPArg>{(int32_t)offset});
  }
  /// Shared memory for the rest of the kernel (tiles, pipeline stages, tensor maps,
  /// mbarriers), `align`-aligned.
  Value persistentAlloc(Location loc, int64_t bytes, int64_t align) {
    int64_t offset = llvm::alignTo(persistentBytes, align);
    persistentBytes = offset + bytes;
    persistentHigh = std::max(persistentHigh, persistentBytes);
    return b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), arena(true),
                                 ArrayRef<LLVM::GEPArg>{(int32_t)offset});
  }
  /// A barrier for the program's threads: all of the block, or with a producer
  /// warpgroup the consumers only (named barrier 1; the producer never joins one).
  void syncThreads(Location loc) {
    if (consumerSide)
      namedBarrier(loc, 1, threads);
    else
      b.create<gpu::BarrierOp>(loc);
  }
  /// `bar.sync id, count` as NVVM's barrier intrinsic, which LLVM knows is convergent: as
  /// inline asm, LLVM may duplicate it into both arms of a branch (it did: bar.sync 2 in
  /// a thread-0 branch and beside it hung warp 0, whose lanes met two instructions).
  void namedBarrier(Location loc, int64_t id, int64_t count) {
    b.create<NVVM::BarrierOp>(loc, Type(), cst(loc, id), cst(loc, count), NVVM::BarrierReductionAttr(),
                              Value());
  }
  /// Starts the lowering of one op: its scratch buffers may reuse earlier ones.
  void beginOp() {
    scratchCursor = 0;
    scratchFenced = false;
  }

  /// Declares the module's dynamic shared memory and records this kernel's size.
  void createArenas(Location loc) {
    int64_t total = persistentHigh;
    if (scratchArena) {
      int64_t start = llvm::alignTo(persistentHigh, 1024);
      scratchOffset.setValueAttr(b.getI32IntegerAttr(start));
      total = start + scratchBytes;
    }
    func->setAttr(kSharedBytesAttr, b.getI64IntegerAttr(total));
    auto module = func->getParentOfType<gpu::GPUModuleOp>();
    if (!persistentArena || module.lookupSymbol(arenaSymbol()))
      return;
    OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
    auto type = LLVM::LLVMArrayType::get(b.getI8Type(), dynamicShared ? 0 : total);
    mb.create<LLVM::GlobalOp>(loc, type, /*isConstant=*/false,
                              dynamicShared ? LLVM::Linkage::External : LLVM::Linkage::Internal,
                              arenaSymbol(), Attribute(), /*alignment=*/1024, /*addrSpace=*/3);
  }

  Value sharedElementPtr(Location loc, Value base, Value index, Type storage) {
    return b.create<LLVM::GEPOp>(loc, sharedPtrType(), storage, base, ValueRange{index});
  }
  void storeShared(OpBuilder &bb, Location loc, Value base, Value index, Value value) {
    Value p = bb.create<LLVM::GEPOp>(loc, sharedPtrType(), value.getType(), base,
                                     ValueRange{index});
    bb.create<LLVM::StoreOp>(loc, value, p);
  }
  Value loadShared(Location loc, Value base, Value index, Type storage) {
    return b.create<LLVM::LoadOp>(loc, storage, sharedElementPtr(loc, base, index, storage));
  }

  // --- layouts ------------------------------------------------------------------

  Value cst(Location loc, int64_t v) { return intConst(b, loc, b.getI32Type(), v); }

  Dist distOf(Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    return {t, layouts.layoutOf(v)};
  }
  Dist blocked(Type t) { return {cast<RankedTensorType>(t), TileLayout::blocked()}; }
  bool isMma(const Dist &d) const { return d.layout.kind == TileLayoutKind::MmaAccumulator; }
  bool isRows(const Dist &d) const { return d.layout.kind == TileLayoutKind::MmaRows; }
  /// MmaRows: the rows one warp owns, and its m16 atoms along them (two rows each per
  /// thread: g and g + 8).
  int64_t warpRows(const Dist &d) const { return d.type.getDimSize(0) / d.layout.warpsM; }

  /// Blocked tiles smaller than the block are replicated: thread t holds element
  /// t % N, and only threads t < N (the owners) write it to memory.
  bool replicated(const Dist &d) const {
    return !isMma(d) && !isRows(d) && d.type.getNumElements() < spread;
  }
  int64_t perThread(const Dist &d) const {
    if (isRows(d))
      return warpRows(d) / 16 * 2;
    return replicated(d) ? 1 : d.type.getNumElements() / spread;
  }
  /// Consecutive registers holding consecutive elements of a row.
  int64_t vecWidth(const Dist &d) const {
    unsigned bits = getElementBitWidth(d.type.getElementType());
    if (isRows(d))
      return 1;
    if (isMma(d))
      return d.layout.atom == 0 && bits <= 64 ? 2 : 1;
    if (replicated(d))
      return 1;
    // Up to 4 elements per run whatever the element type, so that tiles of one shape share
    // the layout register for register (an elementwise op may mix f32, bf16 and i1
    // tiles); that is one 16-byte access for 32-bit elements.
    int64_t r = perThread(d), v = 1;
    while (v * 2 <= r && r % (v * 2) == 0 && v * 2 <= 4)
      v *= 2;
    return v;
  }
  /// Linear index (i32) of register k of a blocked tile.
  Value linearIndex(Location loc, const Dist &d, int64_t k) {
    if (replicated(d))
      return b.create<arith::RemUIOp>(loc, spreadId, cst(loc, d.type.getNumElements()));
    int64_t v = vecWidth(d);
    Value base = b.create<arith::MulIOp>(loc, spreadId, cst(loc, v));
    return b.create<arith::AddIOp>(loc, base, cst(loc, (k / v) * spread * v + k % v));
  }
  /// The tile index a thread-value layout gives this thread's lane (run time) and value
  /// `v` (compile time): a CuTe layout is a sum over its modes, so the lane's part is the
  /// lane split by the thread mode's shape times its strides.
  Value tvIndex(Location loc, const ::kiln::layout::Layout &tv, int64_t v) {
    Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, warpSize));
    std::vector<int64_t> shape = ::kiln::layout::flattenToVector(tv[0].shape());
    std::vector<int64_t> stride = ::kiln::layout::flattenToVector(tv[0].stride());
    Value index = cst(loc, tv[1](v));
    int64_t below = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
      Value c = b.create<arith::RemUIOp>(
          loc, b.create<arith::DivUIOp>(loc, lane, cst(loc, below)), cst(loc, shape[i]));
      index = b.create<arith::AddIOp>(loc, index, b.create<arith::MulIOp>(loc, c, cst(loc, stride[i])));
      below *= shape[i];
    }
    return index;
  }

  /// Row-major coordinates (i32) of register k.
  SmallVector<Value> coordinates(Location loc, const Dist &d, int64_t k) {
    RankedTensorType t = d.type;
    if (isRows(d)) {
      // Register k = 2 * i + h: row g + 8 * h of m16 atom i of this warp's rows.
      Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, 32));
      Value warpRow = b.create<arith::DivUIOp>(
          loc, b.create<arith::DivUIOp>(loc, threadId, cst(loc, 32)), cst(loc, d.layout.warpsN));
      Value row = b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, warpRow, cst(loc, warpRows(d))),
          b.create<arith::AddIOp>(loc, b.create<arith::DivUIOp>(loc, lane, cst(loc, 4)),
                                  cst(loc, (k / 2) * 16 + (k % 2) * 8)));
      SmallVector<Value> c{row};
      if (t.getRank() == 2)
        c.push_back(cst(loc, 0));
      return c;
    }
    if (isMma(d) && d.layout.atom != 0) {
      // Register k = (i * atomsN + j) * values + v: atom (i, j) of this wave's block, value
      // v of the atom's C fragment (its TV layout gives m + atomM * n).
      const auto &atom = matrixAtom(d.layout.atom);
      int64_t wm = t.getDimSize(0) / d.layout.warpsM, wn = t.getDimSize(1) / d.layout.warpsN;
      int64_t values = atom.m * atom.n / atom.threads, atomsN = wn / atom.n;
      int64_t a = k / values, v = k % values, i = a / atomsN, j = a % atomsN;
      Value index = tvIndex(loc, atom.c, v);
      Value m = b.create<arith::RemUIOp>(loc, index, cst(loc, atom.m));
      Value n = b.create<arith::DivUIOp>(loc, index, cst(loc, atom.m));
      Value warp = b.create<arith::DivUIOp>(loc, threadId, cst(loc, warpSize));
      Value warpRow = b.create<arith::DivUIOp>(loc, warp, cst(loc, d.layout.warpsN));
      Value warpCol = b.create<arith::RemUIOp>(loc, warp, cst(loc, d.layout.warpsN));
      Value row = b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, warpRow, cst(loc, wm)),
          b.create<arith::AddIOp>(loc, m, cst(loc, i * atom.m)));
      Value col = b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, warpCol, cst(loc, wn)),
          b.create<arith::AddIOp>(loc, n, cst(loc, j * atom.n)));
      return {row, col};
    }
    if (isMma(d)) {
      // Register k = ((i * atomsN + j) * 4 + c): atom (i, j) of this warp's block,
      // fragment value c at row g + 8 * (c / 2), column 2 * (lane % 4) + c % 2.
      int64_t wm = t.getDimSize(0) / d.layout.warpsM, wn = t.getDimSize(1) / d.layout.warpsN;
      int64_t atomsN = wn / 8, atom = k / 4, c = k % 4;
      int64_t i = atom / atomsN, j = atom % atomsN;
      Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, 32));
      Value warp = b.create<arith::DivUIOp>(loc, threadId, cst(loc, 32));
      Value warpRow = b.create<arith::DivUIOp>(loc, warp, cst(loc, d.layout.warpsN));
      Value warpCol = b.create<arith::RemUIOp>(loc, warp, cst(loc, d.layout.warpsN));
      Value g = b.create<arith::DivUIOp>(loc, lane, cst(loc, 4));
      Value pair = b.create<arith::MulIOp>(loc, b.create<arith::RemUIOp>(loc, lane, cst(loc, 4)),
                                           cst(loc, 2));
      Value row = b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, warpRow, cst(loc, wm)),
          b.create<arith::AddIOp>(loc, g, cst(loc, i * 16 + 8 * (c / 2))));
      Value col = b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, warpCol, cst(loc, wn)),
          b.create<arith::AddIOp>(loc, pair, cst(loc, j * 8 + c % 2)));
      return {row, col};
    }
    Value i = linearIndex(loc, d, k);
    SmallVector<Value> coords(t.getRank());
    for (int64_t dim = t.getRank() - 1; dim >= 0; --dim) {
      Value size = cst(loc, t.getDimSize(dim));
      coords[dim] = dim == 0 ? i : b.create<arith::RemUIOp>(loc, i, size).getResult();
      if (dim > 0)
        i = b.create<arith::DivUIOp>(loc, i, size);
    }
    return coords;
  }

  LogicalResult checkTile(Operation *op, Type type) {
    auto t = dyn_cast<RankedTensorType>(type);
    if (!t)
      return success();
    if (t.getEncoding())
      return op->emitOpError("tiles with explicit layouts are not supported by the GPU "
                             "lowering yet");
    int64_t n = t.getNumElements();
    if (n % spread != 0 && spread % n != 0)
      return op->emitOpError("tile of ")
             << n << " elements does not divide over " << spread
             << " threads, nor they over it; use a power of two";
    return success();
  }

  /// For a replicated tile, whether this thread owns its element (writes it); null
  /// when every thread owns its registers.
  Value ownerMask(Location loc, const Dist &d) {
    if (isRows(d)) {
      // A row's value is in every lane of its quad and in every warp column.
      Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, 32));
      Value warpCol = b.create<arith::RemUIOp>(
          loc, b.create<arith::DivUIOp>(loc, threadId, cst(loc, 32)), cst(loc, d.layout.warpsN));
      return b.create<arith::AndIOp>(
          loc,
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                  b.create<arith::RemUIOp>(loc, lane, cst(loc, 4)), cst(loc, 0)),
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, warpCol, cst(loc, 0)));
    }
    if (!replicated(d))
      return {};
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, spreadId,
                                   cst(loc, d.type.getNumElements()));
  }
  Value andMask(Location loc, Value a, Value m) {
    if (!a)
      return m;
    if (!m)
      return a;
    return b.create<arith::AndIOp>(loc, a, m);
  }

  /// The type a scalar or tile element has in registers (pointers become LLVM pointers).
  Type registerType(Type t) {
    if (isa<PtrType>(t))
      return LLVM::LLVMPointerType::get(b.getContext());
    return t;
  }

  /// Tile exchanges and cross-thread reductions move numbers only.
  LogicalResult checkNumeric(Operation *op, Type tile) {
    Type elem = elementOf(tile);
    if (!isa<IntegerType, FloatType>(elem))
      return op->emitOpError("moves ")
             << elem << " elements between threads, which the GPU lowering does not support";
    return success();
  }

  // --- values -------------------------------------------------------------------

  Value scalar(Value v) { return scalars.lookupOrDefault(v); }

  /// The registers of tile `v` in layout `d` (converted through shared memory when
  /// `v` lives in another layout; splats are repeated).
  ArrayRef<Value> regs(Value v, const Dist &d) {
    auto key = std::make_pair(v, d.layout.key());
    if (auto it = splatScalars.find(v); it != splatScalars.end()) {
      auto &r = converted[key];
      if ((int64_t)r.size() != perThread(d))
        r.assign(perThread(d), it->second);
      return r;
    }
    if (layouts.layoutOf(v) == d.layout)
      return tiles[v];
    auto &r = converted[key];
    if (r.empty())
      r = convert(v, d);
    return r;
  }
  /// Register k of tile or broadcast scalar `v` in layout `d` (convert first with
  /// `prepare` when inside a branch).
  Value element(Value v, int64_t k, const Dist &d) {
    if (!isa<RankedTensorType>(v.getType()))
      return scalar(v);
    return regs(v, d)[k];
  }
  /// Brings every tile operand of `op` into layout `d` at the current point, so that
  /// `element` inside branches only reads registers.
  void prepare(Operation *op, const Dist &d) {
    for (Value v : op->getOperands())
      if (isa<RankedTensorType>(v.getType()))
        (void)regs(v, d);
  }

  /// Workgroup-memory copy of tile `v` in row-major order (scratch); read it with
  /// readShared.
  Value toShared(Location loc, Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    Type storage = storageType(b, t.getElementType());
    Value buf = sharedAlloc(loc, t.getNumElements() * storageBytes(storage), false);
    Dist d = splatScalars.count(v) ? blocked(t) : distOf(v);
    ArrayRef<Value> values = regs(v, d);
    Value owner = ownerMask(loc, d);
    for (int64_t k = 0; k < perThread(d); ++k) {
      Value index = isMma(d) || isRows(d) ? linearize(loc, t.getShape(), coordinates(loc, d, k))
                                          : linearIndex(loc, d, k);
      Value value = toStorage(b, loc, values[k]);
      whenTrue(b, loc, owner, [&](OpBuilder &bb, Location l) {
        storeShared(bb, l, buf, index, value);
      });
    }
    syncThreads(loc);
    return buf;
  }
  static int64_t storageBytes(Type storage) {
    return (storage.getIntOrFloatBitWidth() + 7) / 8;
  }
  Value readShared(Location loc, Value buf, Value linear, Type elem) {
    Type storage = storageType(b, elem);
    return fromStorage(b, loc, loadShared(loc, buf, linear, storage), elem);
  }

  /// `v`'s registers in layout `d` (whose type may be another element type of the same
  /// shape: an elementwise op's result).
  SmallVector<Value> convert(Value v, const Dist &d) {
    Location loc = v.getLoc();
    Value buf = toShared(loc, v);
    Type elem = cast<RankedTensorType>(v.getType()).getElementType();
    SmallVector<Value> out;
    for (int64_t k = 0; k < perThread(d); ++k)
      out.push_back(
          readShared(loc, buf, linearize(loc, d.type.getShape(), coordinates(loc, d, k)), elem));
    return out;
  }

  /// Row-major linear index (i32) of `coords` in `shape`.
  Value linearize(Location loc, ArrayRef<int64_t> shape, ArrayRef<Value> coords) {
    Value linear = cst(loc, 0);
    for (size_t d = 0; d < shape.size(); ++d) {
      linear = b.create<arith::MulIOp>(loc, linear, cst(loc, shape[d]));
      linear = b.create<arith::AddIOp>(loc, linear, coords[d]);
    }
    return linear;
  }

  // --- walking ------------------------------------------------------------------

  LogicalResult lowerBlock(Block &block) {
    for (Operation &op : block)
      if (failed(lowerOp(&op)))
        return failure();
    return success();
  }

  LogicalResult lowerOp(Operation *op) {
    if (consumerSide && deferredLoads.contains(op))
      return success(); // after the mailbox is posted (postMailbox)
    for (Type t : op->getResultTypes())
      if (failed(checkTile(op, t)))
        return failure();
    beginOp();
    waitWgmmaFor(op);
    Location loc = op->getLoc();
    if (auto pid = dyn_cast<ProgramIdOp>(op)) {
      if (cluster > 1 && pid.getAxis() == 0) {
        scalars.map(pid.getResult(), b.create<NVVM::ClusterIdXOp>(loc, b.getI32Type()));
        return success();
      }
      Value id = b.create<gpu::BlockIdOp>(loc, static_cast<gpu::Dimension>(pid.getAxis()));
      scalars.map(pid.getResult(), b.create<arith::IndexCastOp>(loc, b.getI32Type(), id));
      return success();
    }
    if (auto num = dyn_cast<NumProgramsOp>(op)) {
      if (cluster > 1 && num.getAxis() == 0) {
        scalars.map(num.getResult(), b.create<NVVM::ClusterDimXOp>(loc, b.getI32Type()));
        return success();
      }
      Value n = b.create<gpu::GridDimOp>(loc, static_cast<gpu::Dimension>(num.getAxis()));
      scalars.map(num.getResult(), b.create<arith::IndexCastOp>(loc, b.getI32Type(), n));
      return success();
    }
    if (isa<ReturnOp>(op)) {
      finishClusterExchange(loc);
      if (!consumerSide) // a specialised kernel returns after both sides
        b.create<gpu::ReturnOp>(loc);
      return success();
    }
    if (auto iota = dyn_cast<IotaOp>(op)) {
      Dist d = distOf(iota);
      SmallVector<Value> out;
      for (int64_t k = 0; k < perThread(d); ++k)
        out.push_back(castElements(b, loc, linearIndex(loc, d, k), d.type.getElementType(), true));
      tiles[iota] = out;
      return success();
    }
    if (auto splat = dyn_cast<SplatOp>(op)) {
      splatScalars[splat] = scalar(splat.getInput());
      return success();
    }
    if (isa<ReshapeOp, ExpandDimsOp>(op)) {
      // Row-major order is kept, and with it every blocked element's thread and register.
      Value in = op->getOperand(0), out = op->getResult(0);
      TileLayout l = layouts.layoutOf(out);
      if (splatScalars.count(in))
        splatScalars[out] = splatScalars[in];
      else if (l.kind == TileLayoutKind::MmaRows) // [M] -> [M, 1]: the same rows
        tiles[out] = llvm::to_vector(regs(in, Dist{cast<RankedTensorType>(in.getType()), l}));
      else
        tiles[out] = llvm::to_vector(regs(in, blocked(in.getType())));
      return success();
    }
    if (auto cast = dyn_cast<CastOp>(op))
      return mapElementwise(op, [&](int64_t k, const Dist &d) {
        return castElements(b, loc, element(cast.getInput(), k, d),
                            elementOf(cast.getType()), cast.getIsUnsigned());
      });
    if (auto make = dyn_cast<MakeDescOp>(op)) {
      DescParts parts;
      parts.base = scalar(make.getBase());
      for (Value v : make.getShape())
        parts.shape.push_back(scalar(v));
      for (Value v : make.getStrides())
        parts.strides.push_back(scalar(v));
      descs[make] = parts;
      return success();
    }
    if (auto add = dyn_cast<AddPtrOp>(op))
      return lowerAddPtr(add);
    if (auto load = dyn_cast<LoadOp>(op))
      return lowerLoad(load);
    if (auto store = dyn_cast<StoreOp>(op))
      return lowerStore(store);
    if (auto gather = dyn_cast<GatherOp>(op))
      return lowerGather(gather);
    if (auto scatter = dyn_cast<ScatterOp>(op))
      return lowerScatter(scatter);
    if (auto atomic = dyn_cast<AtomicAddOp>(op))
      return lowerAtomicAdd(atomic);
    if (isa<ReduceOp, ScanOp, BroadcastOp, TransposeOp, DotOp>(op))
      for (Value v : op->getOperands())
        if (failed(checkNumeric(op, v.getType())))
          return failure();
    if (auto reduce = dyn_cast<ReduceOp>(op))
      return reduce.getInput().getType().getRank() == 1 &&
                     !replicated(blocked(reduce.getInput().getType()))
                 ? lowerReduce(reduce)
                 : lowerReduceAxis(reduce);
    if (auto scan = dyn_cast<ScanOp>(op))
      return lowerScan(scan);
    if (auto bcast = dyn_cast<BroadcastOp>(op))
      return lowerBroadcast(bcast);
    if (auto transpose = dyn_cast<TransposeOp>(op))
      return lowerTranspose(transpose);
    if (auto dot = dyn_cast<DotOp>(op))
      return lowerDot(dot);
    if (auto forOp = dyn_cast<scf::ForOp>(op))
      return lowerFor(forOp);
    if (auto ifOp = dyn_cast<scf::IfOp>(op))
      return lowerIf(ifOp);
    if (op->getDialect() && isa<KilnDialect>(op->getDialect()))
      return op->emitOpError("is not supported by the GPU lowering yet");
    bool touchesTiles = llvm::any_of(op->getOperandTypes(), llvm::IsaPred<RankedTensorType>) ||
                        llvm::any_of(op->getResultTypes(), llvm::IsaPred<RankedTensorType>);
    bool touchesKilnTypes =
        llvm::any_of(op->getOperandTypes(), llvm::IsaPred<PtrType, DescType>) ||
        llvm::any_of(op->getResultTypes(), llvm::IsaPred<PtrType, DescType>);
    if (touchesKilnTypes) {
      // Canonicalisation turns branches over pointers into selects.
      if (auto select = dyn_cast<arith::SelectOp>(op); select && isa<PtrType>(select.getType())) {
        scalars.map(select.getResult(),
                    b.create<arith::SelectOp>(loc, scalar(select.getCondition()),
                                              scalar(select.getTrueValue()),
                                              scalar(select.getFalseValue())));
        return success();
      }
      return op->emitOpError("on kiln pointers or descriptors is not supported by the GPU "
                             "lowering; choose them with kiln ops before using them");
    }
    if (!touchesTiles) {
      if (op->getNumRegions() != 0 && op->walk([](Operation *inner) {
            return isa<KilnDialect>(inner->getDialect()) ? WalkResult::interrupt()
                                                          : WalkResult::advance();
          }).wasInterrupted())
        return op->emitOpError("with kiln ops inside is not supported by the GPU lowering yet");
      b.clone(*op, scalars);
      return success();
    }
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto splatAttr = dyn_cast<SplatElementsAttr>(constant.getValue());
      if (!splatAttr)
        return op->emitOpError("only splat tile constants are supported by the GPU lowering");
      splatScalars[constant] = b.create<arith::ConstantOp>(loc, splatAttr.getSplatValue<TypedAttr>());
      return success();
    }
    if (op->getNumRegions() == 0 && op->getNumResults() == 1 &&
        (isa<arith::ArithDialect, math::MathDialect>(op->getDialect())))
      return mapElementwise(op, [&](int64_t k, const Dist &d) {
        OperationState state(loc, op->getName());
        for (Value v : op->getOperands())
          state.addOperands(element(v, k, d));
        state.addTypes(elementOf(op->getResult(0).getType()));
        state.addAttributes(op->getAttrs());
        return b.create(state)->getResult(0);
      });
    return op->emitOpError("on tiles is not supported by the GPU lowering yet");
  }

  /// Result of `op` element by element in its assigned layout (operands converted to it).
  LogicalResult mapElementwise(Operation *op,
                               function_ref<Value(int64_t, const Dist &)> perElement) {
    Value result = op->getResult(0);
    auto t = dyn_cast<RankedTensorType>(result.getType());
    if (!t) {
      scalars.map(result, perElement(0, Dist{}));
      return success();
    }
    if (layouts.isSplat(result)) {
      splatScalars[result] = perElement(0, blocked(t));
      return success();
    }
    Dist d = distOf(result);
    prepare(op, d);
    SmallVector<Value> out;
    for (int64_t k = 0; k < perThread(d); ++k)
      out.push_back(perElement(k, d));
    tiles[result] = out;
    return success();
  }

  // --- memory -------------------------------------------------------------------

  LogicalResult lowerAddPtr(AddPtrOp op) {
    Location loc = op.getLoc();
    auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
    Type pointee = cast<PtrType>(elementOf(op.getType())).getPointee();
    Type storage = storageType(b, pointee);
    return mapElementwise(op, [&](int64_t k, const Dist &d) -> Value {
      Value off = toI64(b, loc, element(op.getOffset(), k, d));
      return b.create<LLVM::GEPOp>(loc, ptrType, storage, element(op.getPtr(), k, d),
                                   ValueRange{off});
    });
  }

  Value atomic(OpBuilder &bb, Location loc, LLVM::AtomicBinOp kind, Value ptr, Value val) {
    bool merge = kind == LLVM::AtomicBinOp::_and || kind == LLVM::AtomicBinOp::_or;
    return bb.create<LLVM::AtomicRMWOp>(loc, kind, ptr, val,
                                        merge ? LLVM::AtomicOrdering::monotonic
                                              : LLVM::AtomicOrdering::seq_cst);
  }

  /// Whether chunks of `vec` registers of tile `t` can move as one vector access: whole
  /// bytes per element and chunks that never cross a row.
  bool vectorizable(RankedTensorType t, int64_t vec) {
    Type elem = t.getElementType();
    return vec > 1 && !isPacked(elem) && t.getDimSize(t.getRank() - 1) % vec == 0;
  }

  /// For `vec` elements starting at tile coordinates `first` (along the last dim):
  /// (all in bounds, contiguous and aligned for one vector access; linear index of the
  /// first element).
  std::pair<Value, Value> chunkFastPath(Location loc, Type elem, const DescParts &desc,
                                        ValueRange offsets, ArrayRef<Value> first, int64_t vec) {
    auto [inBounds, linear] = blockElement(b, loc, desc, offsets, first);
    SmallVector<Value> last(first);
    last.back() = b.create<arith::AddIOp>(loc, last.back(), cst(loc, vec - 1));
    Value lastIn = blockElement(b, loc, desc, offsets, last).first;
    Value unit = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, desc.strides.back(),
                                         i64Const(b, loc, 1));
    int64_t elemBytes = getElementBitWidth(elem) / 8, bytes = vec * elemBytes;
    Value addr = b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), desc.base);
    Value byteOffset = b.create<arith::MulIOp>(loc, linear, i64Const(b, loc, elemBytes));
    Value start = b.create<arith::AddIOp>(loc, addr, byteOffset);
    Value misaligned = b.create<arith::AndIOp>(loc, start, i64Const(b, loc, bytes - 1));
    Value aligned = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, misaligned,
                                            i64Const(b, loc, 0));
    Value ok = b.create<arith::AndIOp>(loc, inBounds, lastIn);
    ok = b.create<arith::AndIOp>(loc, ok, b.create<arith::AndIOp>(loc, unit, aligned));
    return {ok, linear};
  }

  SmallVector<Value> offsetsOf(ValueRange offsets) {
    SmallVector<Value> out;
    for (Value v : offsets)
      out.push_back(scalar(v));
    return out;
  }

  /// Element at `coords` of the block at `offsets`, or the padding outside the tensor,
  /// as its storage type.
  Value guardedLoad(OpBuilder &bb, Location l, LoadOp op, const DescParts &desc,
                    ValueRange offsets, ArrayRef<Value> coords) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
    Type elem = op.getType().getElementType();
    TypedAttr padding = op.getPaddingAttr();
    auto [inBounds, linear] = blockElement(b, l, desc, offsets, coords);
    return branchValue(
        b, l, inBounds,
        [&](OpBuilder &x, Location y) { return loadElement(x, y, desc.base, linear, elem); },
        [&](OpBuilder &x, Location y) {
          Value pad = padding ? (Value)x.create<arith::ConstantOp>(y, padding) : zeroOf(x, y, elem);
          return toStorage(x, y, pad);
        });
  }

  LogicalResult lowerLoad(LoadOp op) {
    Location loc = op.getLoc();
    if (layouts.layoutOf(op).kind == TileLayoutKind::Shared)
      return lowerSharedLoad(op);
    if (layouts.layoutOf(op).kind == TileLayoutKind::BlockIO)
      return lowerBlockIOLoad(op);
    Dist d = distOf(op);
    Type elem = d.type.getElementType();
    const DescParts &desc = descs[op.getDesc()];
    SmallVector<Value> offsets = offsetsOf(op.getOffsets());
    Type storage = storageType(b, elem);
    auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
    auto scalarLoad = [&](OpBuilder &bb, Location l, int64_t k) -> Value {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      return guardedLoad(b, l, op, desc, offsets, coordinates(l, d, k));
    };
    int64_t vec = vecWidth(d);
    SmallVector<Value> out;
    if (!vectorizable(d.type, vec)) {
      for (int64_t k = 0; k < perThread(d); ++k)
        out.push_back(fromStorage(b, loc, scalarLoad(b, loc, k), elem));
      tiles[op] = out;
      return success();
    }
    // Chunks of `vec` registers: one vector load when the chunk is in bounds, contiguous
    // and aligned (the common case), element by element otherwise (edges, odd strides).
    auto vecType = VectorType::get({vec}, storage);
    for (int64_t k = 0; k < perThread(d); k += vec) {
      auto [fast, linear] =
          chunkFastPath(loc, elem, desc, offsets, coordinates(loc, d, k), vec);
      SmallVector<Type> types(vec, storage);
      auto ifOp = b.create<scf::IfOp>(loc, types, fast, /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&ifOp.getThenRegion().front());
        Value addr = b.create<LLVM::GEPOp>(loc, ptrType, storage, desc.base, ValueRange{linear});
        Value v = b.create<LLVM::LoadOp>(loc, vecType, addr,
                                         vec * getElementBitWidth(elem) / 8);
        SmallVector<Value> parts;
        for (int64_t j = 0; j < vec; ++j)
          parts.push_back(b.create<LLVM::ExtractElementOp>(
              loc, v, b.create<LLVM::ConstantOp>(loc, b.getI32Type(), j)));
        b.create<scf::YieldOp>(loc, parts);
        b.setInsertionPointToStart(&ifOp.getElseRegion().front());
        SmallVector<Value> slow;
        for (int64_t j = 0; j < vec; ++j)
          slow.push_back(scalarLoad(b, loc, k + j));
        b.create<scf::YieldOp>(loc, slow);
      }
      for (Value r : ifOp.getResults())
        out.push_back(fromStorage(b, loc, r, elem));
    }
    tiles[op] = out;
    return success();
  }

  LogicalResult lowerStore(StoreOp op) {
    Location loc = op.getLoc();
    Value value = op.getValue();
    Dist d = splatScalars.count(value) ? blocked(value.getType()) : distOf(value);
    Type elem = d.type.getElementType();
    const DescParts &desc = descs[op.getDesc()];
    SmallVector<Value> offsets = offsetsOf(op.getOffsets());
    auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
    ArrayRef<Value> values = regs(value, d);
    Value owner = ownerMask(loc, d);
    auto scalarStore = [&](int64_t k) {
      auto [inBounds, linear] = blockElement(b, loc, desc, offsets, coordinates(loc, d, k));
      Value v = values[k];
      whenTrue(b, loc, andMask(loc, inBounds, owner), [&](OpBuilder &bb, Location l) {
        storeElement(bb, l, desc.base, linear, v, elem,
                     [this](OpBuilder &x, Location y, LLVM::AtomicBinOp kind, Value p, Value val) {
                       return atomic(x, y, kind, p, val);
                     });
      });
    };
    int64_t vec = vecWidth(d);
    if (!vectorizable(d.type, vec)) {
      for (int64_t k = 0; k < perThread(d); ++k)
        scalarStore(k);
      return success();
    }
    Type storage = storageType(b, elem);
    auto vecType = VectorType::get({vec}, storage);
    for (int64_t k = 0; k < perThread(d); k += vec) {
      auto [fast, linear] =
          chunkFastPath(loc, elem, desc, offsets, coordinates(loc, d, k), vec);
      auto ifOp = b.create<scf::IfOp>(loc, TypeRange{}, fast, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      Value v = b.create<LLVM::PoisonOp>(loc, vecType);
      for (int64_t j = 0; j < vec; ++j)
        v = b.create<LLVM::InsertElementOp>(loc, v, toStorage(b, loc, values[k + j]),
                                            b.create<LLVM::ConstantOp>(loc, b.getI32Type(), j));
      Value addr = b.create<LLVM::GEPOp>(loc, ptrType, storage, desc.base, ValueRange{linear});
      b.create<LLVM::StoreOp>(loc, v, addr, vec * getElementBitWidth(elem) / 8);
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      for (int64_t j = 0; j < vec; ++j)
        scalarStore(k + j);
    }
    return success();
  }

  LogicalResult lowerGather(GatherOp op) {
    Location loc = op.getLoc();
    Type elem = op.getType().getElementType();
    return mapElementwise(op, [&](int64_t k, const Dist &d) -> Value {
      Value ptr = element(op.getPtrs(), k, d);
      auto load = [&](OpBuilder &bb, Location l) {
        return loadElement(bb, l, ptr, i64Const(bb, l, 0), elem);
      };
      if (!op.getMask())
        return fromStorage(b, loc, load(b, loc), elem);
      Value raw = branchValue(b, loc, element(op.getMask(), k, d), load,
                              [&](OpBuilder &bb, Location l) {
                                Value other = op.getOther() ? element(op.getOther(), k, d)
                                                            : zeroOf(bb, l, elem);
                                return toStorage(bb, l, other);
                              });
      return fromStorage(b, loc, raw, elem);
    });
  }

  LogicalResult lowerScatter(ScatterOp op) {
    Location loc = op.getLoc();
    Dist d = blocked(op.getValue().getType());
    prepare(op, d);
    Value owner = ownerMask(loc, d);
    for (int64_t k = 0; k < perThread(d); ++k) {
      Value ptr = element(op.getPtrs(), k, d), v = element(op.getValue(), k, d);
      auto store = [&](OpBuilder &bb, Location l) {
        storeElement(bb, l, ptr, i64Const(bb, l, 0), v, d.type.getElementType(),
                     [this](OpBuilder &x, Location y, LLVM::AtomicBinOp kind, Value p, Value val) {
                       return atomic(x, y, kind, p, val);
                     });
      };
      whenTrue(b, loc, andMask(loc, op.getMask() ? element(op.getMask(), k, d) : Value(), owner),
               store);
    }
    return success();
  }

  LogicalResult lowerAtomicAdd(AtomicAddOp op) {
    Location loc = op.getLoc();
    Type elem = elementOf(op.getType());
    auto kind = isa<FloatType>(elem) ? LLVM::AtomicBinOp::fadd : LLVM::AtomicBinOp::add;
    if (!isa<RankedTensorType>(op.getType())) {
      // One scalar atomic per program, not one per thread.
      Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
      Value cond = first;
      if (op.getMask())
        cond = b.create<arith::AndIOp>(loc, cond, scalar(op.getMask()));
      Value old = branchValue(
          b, loc, cond,
          [&](OpBuilder &bb, Location l) {
            return atomic(bb, l, kind, scalar(op.getPtrs()), scalar(op.getValue()));
          },
          [&](OpBuilder &bb, Location l) { return zeroOf(bb, l, elem); });
      // Every thread sees the value thread 0 got.
      scalars.map(op.getResult(), broadcastFromThread0(loc, old));
      return success();
    }
    Value owner = ownerMask(loc, blocked(op.getType()));
    return mapElementwise(op, [&](int64_t k, const Dist &d) -> Value {
      Value p = element(op.getPtrs(), k, d), v = element(op.getValue(), k, d);
      Value cond = andMask(loc, op.getMask() ? element(op.getMask(), k, d) : Value(), owner);
      if (!cond)
        return atomic(b, loc, kind, p, v);
      return branchValue(
          b, loc, cond,
          [&](OpBuilder &bb, Location l) { return atomic(bb, l, kind, p, v); },
          [&](OpBuilder &bb, Location l) { return zeroOf(bb, l, elem); });
    });
  }

  // --- cross-thread -------------------------------------------------------------

  Value broadcastFromThread0(Location loc, Value v) {
    Type storage = storageType(b, v.getType());
    Value buf = sharedAlloc(loc, storageBytes(storage), false);
    Value zero = cst(loc, 0);
    Value isFirst = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, zero);
    Value raw = toStorage(b, loc, v);
    whenTrue(b, loc, isFirst, [&](OpBuilder &bb, Location l) { storeShared(bb, l, buf, zero, raw); });
    syncThreads(loc);
    return readShared(loc, buf, zero, v.getType());
  }

  LogicalResult lowerReduce(ReduceOp op) {
    Location loc = op.getLoc();
    auto t = cast<RankedTensorType>(op.getInput().getType());
    Type elem = t.getElementType();
    if (elem.getIntOrFloatBitWidth() != 32)
      return op.emitOpError("GPU reductions support 32-bit elements; cast first");
    auto combine = [&](Value acc, Value x) {
      return applyCombiner(b, loc, op.getKind(), op.getCombiner(), acc, x);
    };
    // Registers, then lanes (butterfly shuffles), then warps (workgroup memory).
    ArrayRef<Value> in = regs(op.getInput(), blocked(t));
    Value acc = in[0];
    for (size_t k = 1; k < in.size(); ++k)
      acc = combine(acc, in[k]);
    int64_t lanes = std::min(threads, warpSize);
    for (int64_t offset = lanes / 2; offset >= 1; offset /= 2) {
      auto shuffle = b.create<gpu::ShuffleOp>(loc, acc, (int32_t)offset, (int32_t)warpSize,
                                              gpu::ShuffleMode::XOR);
      acc = combine(acc, shuffle.getShuffleResult());
    }
    int64_t warps = threads / warpSize;
    if (warps > 1) {
      Value buf = sharedAlloc(loc, warps * 4, false);
      Value warp = b.create<arith::DivUIOp>(loc, threadId, cst(loc, warpSize));
      Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, warpSize));
      Value isLane0 = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, lane, cst(loc, 0));
      whenTrue(b, loc, isLane0, [&](OpBuilder &bb, Location l) { storeShared(bb, l, buf, warp, acc); });
      syncThreads(loc);
      acc = loadShared(loc, buf, cst(loc, 0), elem);
      for (int64_t w = 1; w < warps; ++w)
        acc = combine(acc, loadShared(loc, buf, cst(loc, w), elem));
    }
    if (cluster > 1) {
      if (ReduceOp sum = normalizerSum(op)) {
        // Softmax's maximum stays local; the sum's exchange settles both (below).
        localMax[sum] = acc;
        // A block whose elements are all -inf subtracts 0: exp(-inf - -inf) would be NaN.
        acc = b.create<arith::SelectOp>(loc, isNegInf(loc, acc), zeroOf(b, loc, elem), acc);
      } else if (auto it = localMax.find(op); it != localMax.end()) {
        acc = combineNormalizer(loc, op, it->second, acc);
      } else {
        acc = combineOverCluster(loc, op, acc, combine);
      }
    }
    scalars.map(op.getResult(), acc);
    return success();
  }

  /// Every block's `partial` combined in rank order (the same result in every block):
  /// each block publishes its partial in its shared memory, and after a cluster barrier
  /// reads the others' through distributed shared memory.
  Value combineOverCluster(Location loc, Operation *op, Value partial,
                           function_ref<Value(Value, Value)> combine) {
    Value total;
    for (ArrayRef<Value> rank : exchangeOverCluster(loc, op, partial))
      total = total ? combine(total, rank[0]) : rank[0];
    return total;
  }
  /// `values` (32-bit, the same in every thread) of every block of the cluster, by
  /// rank: thread 0 publishes this block's in a shared slot of the exchange's own (a
  /// later exchange may write while slow blocks still read this one), the cluster meets
  /// at a barrier, and every thread reads the slots through distributed shared memory.
  SmallVector<SmallVector<Value>> exchangeOverCluster(Location loc, Operation *op,
                                                      ValueRange values) {
    Value slot = persistentAlloc(loc, 4 * values.size(), 8);
    Value zero = cst(loc, 0);
    Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, zero);
    whenTrue(b, loc, first, [&](OpBuilder &bb, Location l) {
      for (auto [i, v] : llvm::enumerate(values))
        storeShared(bb, l, slot, cst(l, i), v);
    });
    finishClusterExchange(loc);
    b.create<NVVM::ClusterArriveOp>(loc, b.getUnitAttr()); // release: the partials
    b.create<NVVM::ClusterWaitOp>(loc, b.getUnitAttr());   // acquire: everyone's
    auto clusterPtr = LLVM::LLVMPointerType::get(b.getContext(), 7);
    SmallVector<SmallVector<Value>> out(cluster);
    for (int64_t r = 0; r < cluster; ++r) {
      Value remote = b.create<NVVM::MapaOp>(loc, clusterPtr, slot, cst(loc, r));
      for (auto [i, v] : llvm::enumerate(values)) {
        Value at = b.create<LLVM::GEPOp>(loc, clusterPtr, v.getType(), remote,
                                         ArrayRef<LLVM::GEPArg>{(int32_t)i});
        out[r].push_back(b.create<LLVM::LoadOp>(loc, v.getType(), at));
      }
    }
    releaseSlot(loc, op);
    return out;
  }
  /// After reading the cluster's slots: no block may reuse or give up its slot while
  /// others read it. At the top level the wait can come later (at the next exchange or
  /// the end); in a loop or branch the next iteration rewrites the slot, so it comes now.
  void releaseSlot(Location loc, Operation *op) {
    b.create<NVVM::ClusterArriveOp>(loc, b.getUnitAttr());
    if (isa<FuncOp>(op->getParentOp()))
      clusterArrivePending = true;
    else
      b.create<NVVM::ClusterWaitOp>(loc, b.getUnitAttr());
  }
  /// For `m = reduce max x` in a clustered program whose only use is softmax's
  /// `s = reduce sum exp(x' - m)` (the exponentials otherwise used only after the sum, in
  /// its block): that sum. Both then cost one exchange instead of two: each block uses
  /// its own maximum m_b, and the sum's exchange of (m_b, s_b) pairs gives the row's
  /// M = max m_b and S = sum s_b exp(m_b - M), the online normalizer across blocks.
  ReduceOp normalizerSum(ReduceOp max) {
    if (max.getKind() != CombineKind::max || !max.getType().isF32() || !max->hasOneUse())
      return {};
    auto splat = dyn_cast<SplatOp>(*max->user_begin());
    if (!splat || !splat->hasOneUse())
      return {};
    auto sub = dyn_cast<arith::SubFOp>(*splat->user_begin());
    if (!sub || sub.getRhs() != splat.getResult() || !sub->hasOneUse())
      return {};
    auto exp = dyn_cast<math::ExpOp>(*sub->user_begin());
    if (!exp || exp->getBlock() != max->getBlock())
      return {};
    ReduceOp sum;
    for (Operation *user : exp->getUsers())
      if (auto r = dyn_cast<ReduceOp>(user); r && r.getKind() == CombineKind::sum && !sum)
        sum = r;
    if (!sum || sum->getBlock() != max->getBlock())
      return {};
    for (Operation *user : exp->getUsers()) {
      Operation *at = max->getBlock()->findAncestorOpInBlock(*user);
      if (user != sum && (!at || !sum->isBeforeInBlock(at)))
        return {};
    }
    normalizerExp[sum] = exp;
    return sum;
  }
  /// The row's sum from this block's maximum `mb` and partial sum `sb` (see
  /// normalizerSum); rescales the exponentials' registers to the row's maximum.
  Value combineNormalizer(Location loc, ReduceOp sum, Value mb, Value sb) {
    Type elem = sb.getType();
    SmallVector<SmallVector<Value>> ranks = exchangeOverCluster(loc, sum, {mb, sb});
    math::ExpOp exp = normalizerExp[sum];
    auto expOf = [&](Value x) { return b.create<math::ExpOp>(loc, x, exp.getFastmath()).getResult(); };
    Value rowMax = ranks[0][0];
    for (int64_t r = 1; r < cluster; ++r)
      rowMax = b.create<arith::MaximumFOp>(loc, rowMax, ranks[r][0]);
    // Blocks of only -inf hold s_b = 0 and add exp(-inf) * 0 = 0, in rank order.
    Value total;
    for (ArrayRef<Value> rank : ranks) {
      Value term = b.create<arith::MulFOp>(
          loc, rank[1], expOf(b.create<arith::SubFOp>(loc, rank[0], rowMax)));
      total = total ? b.create<arith::AddFOp>(loc, total, term).getResult() : term;
    }
    // This block's exponentials were taken against m_b (0 when all -inf: they are 0).
    Value scale = b.create<arith::SelectOp>(
        loc, isNegInf(loc, mb), zeroOf(b, loc, elem),
        expOf(b.create<arith::SubFOp>(loc, mb, rowMax)));
    for (Value &v : tiles[exp.getResult()])
      v = b.create<arith::MulFOp>(loc, v, scale);
    return total;
  }

  Value isNegInf(Location loc, Value x) {
    Value ninf = b.create<arith::ConstantOp>(
        loc, b.getFloatAttr(x.getType(), -std::numeric_limits<double>::infinity()));
    return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, x, ninf);
  }
  /// Completes the cluster barrier the last exchange arrived at.
  void finishClusterExchange(Location loc) {
    if (!clusterArrivePending)
      return;
    b.create<NVVM::ClusterWaitOp>(loc, b.getUnitAttr());
    clusterArrivePending = false;
  }

  LogicalResult lowerBroadcast(BroadcastOp op) {
    Location loc = op.getLoc();
    auto in = op.getInput().getType();
    if (failed(checkTile(op, in)))
      return failure();
    Dist d = distOf(op);
    TileLayout li = layouts.layoutOf(op.getInput());
    if (isMma(d) && d.layout.atom == 0 && li.kind == TileLayoutKind::MmaRows &&
        li.warpsM == d.layout.warpsM && li.warpsN == d.layout.warpsN &&
        li.warpgroup == d.layout.warpgroup && in.getDimSize(1) == 1 &&
        !splatScalars.count(op.getInput())) {
      // A row vector across an accumulator: register k of atom (i, j), value c sits on
      // row g + 8 * (c / 2) of atom row i, which this thread holds as rows register
      // 2 * i + c / 2.
      ArrayRef<Value> rows = regs(op.getInput(), Dist{cast<RankedTensorType>(in), li});
      int64_t atomsN = d.type.getDimSize(1) / d.layout.warpsN / 8;
      SmallVector<Value> out;
      for (int64_t k = 0; k < perThread(d); ++k)
        out.push_back(rows[(k / 4 / atomsN) * 2 + (k % 4) / 2]);
      tiles[op] = out;
      return success();
    }
    Value buf = toShared(loc, op.getInput());
    SmallVector<Value> out;
    for (int64_t k = 0; k < perThread(d); ++k) {
      SmallVector<Value> c = coordinates(loc, d, k);
      for (int64_t dim = 0; dim < in.getRank(); ++dim)
        if (in.getDimSize(dim) != d.type.getDimSize(dim))
          c[dim] = cst(loc, 0);
      out.push_back(readShared(loc, buf, linearize(loc, in.getShape(), c), d.type.getElementType()));
    }
    tiles[op] = out;
    return success();
  }

  LogicalResult lowerTranspose(TransposeOp op) {
    Location loc = op.getLoc();
    auto in = op.getInput().getType();
    Value buf = toShared(loc, op.getInput());
    Dist d = distOf(op);
    SmallVector<Value> out;
    for (int64_t k = 0; k < perThread(d); ++k) {
      SmallVector<Value> c = coordinates(loc, d, k), src(in.getRank());
      for (auto [i, dim] : llvm::enumerate(op.getOrder()))
        src[dim] = c[i];
      out.push_back(readShared(loc, buf, linearize(loc, in.getShape(), src), d.type.getElementType()));
    }
    tiles[op] = out;
    return success();
  }

  /// Combines the input elements along `axis` at `coords` (the axis coordinate
  /// ignored) for positions [lo, hi) of the axis, in order.
  Value combineAlong(Location loc, Value buf, RankedTensorType in, int64_t axis,
                     SmallVector<Value> coords, Value lo, Value hi, Value init,
                     std::optional<CombineKind> kind, Region &combiner) {
    auto loop = b.create<scf::ForOp>(
        loc, lo, hi, cst(loc, 1), ValueRange{init},
        [&](OpBuilder &inner, Location l, Value iv, ValueRange acc) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(inner.getInsertionBlock(), inner.getInsertionPoint());
          coords[axis] = iv;
          Value x = readShared(l, buf, linearize(l, in.getShape(), coords), in.getElementType());
          Value next = applyCombiner(b, l, kind, combiner, acc[0], x);
          b.create<scf::YieldOp>(l, next);
        });
    return loop.getResult(0);
  }

  /// Row reduction of an MMA accumulator tile (NVIDIA fragments): a row's elements sit
  /// in one quad of lanes per warp column, so each thread combines its registers of a
  /// row, the quad combines by shuffles, and the warps along N meet in shared memory.
  /// Built-in combiners only (they reassociate).
  LogicalResult lowerRowReduceMMA(ReduceOp op, const Dist &src) {
    Location loc = op.getLoc();
    auto in = src.type;
    Type elem = in.getElementType();
    int64_t M = in.getDimSize(0), N = in.getDimSize(1);
    int64_t wm = M / src.layout.warpsM, wn = N / src.layout.warpsN;
    int64_t atomsM = wm / 16, atomsN = wn / 8, warpsN = src.layout.warpsN;
    auto combine = [&](Value a, Value x) {
      return applyCombiner(b, loc, op.getKind(), op.getCombiner(), a, x);
    };
    ArrayRef<Value> values = regs(op.getInput(), src);
    SmallVector<Value> partial = llvm::to_vector(values); // copied: maps may grow
    Dist d = distOf(op);
    // Into the accumulator's own rows with one warp column: registers only.
    bool inRegisters = isRows(d) && warpsN == 1;
    SmallVector<Value> rowValues;
    Value buf = inRegisters ? Value() : sharedAlloc(loc, warpsN * M * 4, false);
    Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, 32));
    Value warp = b.create<arith::DivUIOp>(loc, threadId, cst(loc, 32));
    Value warpRow = b.create<arith::DivUIOp>(loc, warp, cst(loc, warpsN));
    Value warpCol = b.create<arith::RemUIOp>(loc, warp, cst(loc, warpsN));
    Value g = b.create<arith::DivUIOp>(loc, lane, cst(loc, 4));
    Value quadLead = b.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::eq, b.create<arith::RemUIOp>(loc, lane, cst(loc, 4)), cst(loc, 0));
    for (int64_t i = 0; i < atomsM; ++i)
      for (int64_t h = 0; h < 2; ++h) {
        Value acc;
        for (int64_t j = 0; j < atomsN; ++j)
          for (int64_t c = 2 * h; c < 2 * h + 2; ++c) {
            Value x = partial[(i * atomsN + j) * 4 + c];
            acc = acc ? combine(acc, x) : x;
          }
        for (int32_t offset : {1, 2})
          acc = combine(acc, b.create<gpu::ShuffleOp>(loc, acc, offset, 32, gpu::ShuffleMode::XOR)
                                 .getShuffleResult());
        if (inRegisters) {
          rowValues.push_back(acc); // register 2 * i + h
          continue;
        }
        Value row = b.create<arith::AddIOp>(
            loc, b.create<arith::MulIOp>(loc, warpRow, cst(loc, wm)),
            b.create<arith::AddIOp>(loc, g, cst(loc, i * 16 + 8 * h)));
        Value at = b.create<arith::AddIOp>(
            loc, b.create<arith::MulIOp>(loc, warpCol, cst(loc, M)), row);
        whenTrue(b, loc, quadLead, [&](OpBuilder &bb, Location l) { storeShared(bb, l, buf, at, acc); });
      }
    if (inRegisters) {
      tiles[op] = rowValues;
      return success();
    }
    syncThreads(loc);
    SmallVector<Value> out;
    for (int64_t k = 0; k < perThread(d); ++k) {
      Value row = isRows(d) ? coordinates(loc, d, k)[0] : linearIndex(loc, d, k);
      Value acc = loadShared(loc, buf, row, elem);
      for (int64_t w = 1; w < warpsN; ++w)
        acc = combine(acc, loadShared(loc, buf, b.create<arith::AddIOp>(loc, row, cst(loc, w * M)), elem));
      out.push_back(acc);
    }
    tiles[op] = out;
    return success();
  }

  LogicalResult lowerReduceAxis(ReduceOp op) {
    Location loc = op.getLoc();
    auto in = cast<RankedTensorType>(op.getInput().getType());
    int64_t axis = op.getAxis();
    if (!splatScalars.count(op.getInput()) && isa<RankedTensorType>(op.getType())) {
      Dist src = distOf(op.getInput());
      if (isMma(src) && src.layout.atom == 0 && axis == 1 && op.getKind() &&
          in.getElementType().getIntOrFloatBitWidth() == 32 &&
          (layouts.layoutOf(op).kind == TileLayoutKind::Blocked ||
           layouts.layoutOf(op).kind == TileLayoutKind::MmaRows))
        return lowerRowReduceMMA(op, src);
    }
    Value buf = toShared(loc, op.getInput());
    Value zero = cst(loc, 0), one = cst(loc, 1), n = cst(loc, in.getDimSize(axis));
    auto outType = dyn_cast<RankedTensorType>(op.getType());
    if (!outType) {
      // A replicated 1-D tile: every thread combines all N elements in order.
      SmallVector<Value> c{zero};
      Value first = readShared(loc, buf, zero, in.getElementType());
      scalars.map(op.getResult(), combineAlong(loc, buf, in, axis, c, one, n, first,
                                               op.getKind(), op.getCombiner()));
      return success();
    }
    Dist d = distOf(op);
    SmallVector<Value> out;
    for (int64_t k = 0; k < perThread(d); ++k) {
      SmallVector<Value> oc = coordinates(loc, d, k), c;
      for (int64_t dim = 0, j = 0; dim < in.getRank(); ++dim)
        c.push_back(dim == axis ? zero : oc[j++]);
      Value first = readShared(loc, buf, linearize(loc, in.getShape(), c), in.getElementType());
      out.push_back(combineAlong(loc, buf, in, axis, c, one, n, first, op.getKind(),
                                 op.getCombiner()));
    }
    tiles[op] = out;
    return success();
  }

  LogicalResult lowerScan(ScanOp op) {
    Location loc = op.getLoc();
    Dist d = distOf(op);
    RankedTensorType t = d.type;
    int64_t axis = op.getAxis(), n = t.getDimSize(axis);
    Value buf = toShared(loc, op.getInput());
    Value one = cst(loc, 1);
    SmallVector<Value> out;
    for (int64_t k = 0; k < perThread(d); ++k) {
      SmallVector<Value> c = coordinates(loc, d, k);
      Value pos = c[axis];
      // Forward: ((x0 + x1) + ...) + x_pos. Reverse: ((x_{n-1} + x_{n-2}) + ...) + x_pos,
      // the order the host uses, so non-commutative combiners agree across targets.
      SmallVector<Value> sc(c);
      sc[axis] = cst(loc, op.getReverse() ? n - 1 : 0);
      Value first = readShared(loc, buf, linearize(loc, t.getShape(), sc), t.getElementType());
      Value count = op.getReverse()
                        ? b.create<arith::SubIOp>(loc, cst(loc, n - 1), pos).getResult()
                        : pos;
      auto loop = b.create<scf::ForOp>(
          loc, cst(loc, 0), count, one, ValueRange{first},
          [&](OpBuilder &inner, Location l, Value j, ValueRange acc) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(inner.getInsertionBlock(), inner.getInsertionPoint());
            SmallVector<Value> ec(c);
            Value step = b.create<arith::AddIOp>(l, j, one);
            ec[axis] = op.getReverse()
                           ? b.create<arith::SubIOp>(l, cst(l, n - 1), step).getResult()
                           : step;
            Value x = readShared(l, buf, linearize(l, t.getShape(), ec), t.getElementType());
            b.create<scf::YieldOp>(l, applyCombiner(b, l, op.getKind(), op.getCombiner(), acc[0], x));
          });
      out.push_back(loop.getResult(0));
    }
    tiles[op] = out;
    return success();
  }

  // --- shared tiles, async copies and MMA ---------------------------------------

  /// Element offset (i32) of (row, col) in a shared tile, swizzled.
  Value tileOffset(Location loc, const SharedTile &s, Value row, Value col) {
    if (s.transposed)
      std::swap(row, col);
    Value o;
    if (s.blockCols == s.cols) {
      o = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, row, cst(loc, s.cols)), col);
    } else {
      Value block = b.create<arith::DivUIOp>(loc, col, cst(loc, s.blockCols));
      Value inner = b.create<arith::RemUIOp>(loc, col, cst(loc, s.blockCols));
      o = b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, block, cst(loc, s.rows * s.blockCols)),
          b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, row, cst(loc, s.blockCols)),
                                  inner));
    }
    if (s.swizzle.isIdentity())
      return o;
    Value y = b.create<arith::AndIOp>(loc, o, cst(loc, s.swizzle.yyyMask()));
    Value moved = s.swizzle.shift >= 0
                      ? b.create<arith::ShRUIOp>(loc, y, cst(loc, s.swizzle.shift)).getResult()
                      : b.create<arith::ShLIOp>(loc, y, cst(loc, -s.swizzle.shift)).getResult();
    return b.create<arith::XOrIOp>(loc, o, moved);
  }

  /// The shared tile a dot reads `t` from: for ldmatrix, row-major in the swizzle the
  /// bank-conflict search picks; for wgmma, 64-column blocks of 128-byte rows with the
  /// 128-byte swizzle (Sw<3,4,3> on bytes) its matrix descriptors describe.
  /// `transposed` stores the tile as its transpose (a K x N operand as N x K).
  SharedTile sharedTileFor(RankedTensorType t, Value base, bool warpgroup,
                           bool transposed = false) {
    int64_t rows = t.getDimSize(0), cols = t.getDimSize(1);
    if (transposed)
      std::swap(rows, cols);
    Type elem = storageType(b, t.getElementType());
    if (warpgroup)
      return {base, rows, cols, 64, elem, ::kiln::layout::Swizzle::tryCreate(3, 3, 3).value(),
              transposed};
    // AMD and Intel read fragments element by element: an unswizzled tile keeps each
    // lane's addresses one register plus constant offsets.
    if (!target.nvidiaMma)
      return {base, rows, cols, cols, elem, ::kiln::layout::Swizzle{}, transposed};
    return {base, rows, cols, cols, elem, ldmatrixSwizzle(rows, cols), transposed};
  }

  /// Whether a shared load is stored K-major for warpgroup MMAs: read only as dot
  /// operand B (K x N) through a view whose rows are contiguous in memory (a make_desc
  /// with unit stride along dim 0, as Kᵀ is of K), with K a multiple of 64 and N <= 256.
  bool kMajorOperand(LoadOp load) {
    TileLayout l = layouts.layoutOf(load);
    RankedTensorType t = load.getType();
    if (l.kind != TileLayoutKind::Shared || !l.warpgroup || t.getDimSize(0) % 64 != 0 ||
        t.getDimSize(1) > 256 || t.getDimSize(1) % 8 != 0)
      return false;
    for (OpOperand &use : load->getUses())
      if (!isa<DotOp>(use.getOwner()) || use.getOperandNumber() != 1)
        return false;
    auto make = load.getDesc().getDefiningOp<MakeDescOp>();
    if (!make || make.getStrides().size() != 2)
      return false;
    auto stride = make.getStrides()[0].getDefiningOp<arith::ConstantOp>();
    auto one = stride ? dyn_cast<IntegerAttr>(stride.getValue()) : IntegerAttr();
    return one && one.getInt() == 1;
  }

  int64_t tileBytes(RankedTensorType t) {
    return t.getNumElements() * storageBytes(storageType(b, t.getElementType()));
  }

  /// swizzle(offset) of a compile-time offset.
  static int64_t swizzled(const SharedTile &s, int64_t offset) {
    return s.swizzle.isIdentity() ? offset : s.swizzle(offset);
  }
  /// Offset of (varRow + constRow, varCol + constCol). The swizzle is linear over XOR,
  /// so when the variable parts (bits within `rowMask` / `colMask`) and the constants
  /// share no bits and the row length is a power of two, it is
  /// swizzle(var) ^ swizzle(const): swizzle(var) is then loop-invariant per thread.
  Value splitOffset(Location loc, const SharedTile &s, Value varRow, int64_t rowMask,
                    int64_t constRow, Value varCol, int64_t colMask, int64_t constCol) {
    bool disjoint = llvm::isPowerOf2_64(s.cols) && llvm::isPowerOf2_64(s.blockCols) &&
                    (s.blockCols == s.cols || llvm::isPowerOf2_64(s.rows)) &&
                    (rowMask & constRow) == 0 && (colMask & constCol) == 0 &&
                    (colMask | constCol) < s.cols;
    if (!disjoint)
      return tileOffset(loc, s, b.create<arith::AddIOp>(loc, varRow, cst(loc, constRow)),
                        b.create<arith::AddIOp>(loc, varCol, cst(loc, constCol)));
    Value var = tileOffset(loc, s, varRow, varCol);
    int64_t c = swizzled(s, (constCol / s.blockCols) * s.rows * s.blockCols +
                                constRow * s.blockCols + constCol % s.blockCols);
    return c == 0 ? var : b.create<arith::XOrIOp>(loc, var, cst(loc, c)).getResult();
  }
  /// A mask covering every value below `bound`.
  static int64_t below(int64_t bound) { return (int64_t)llvm::PowerOf2Ceil(bound) - 1; }

  /// Whether the whole block at `offsets` (rows x cols) is inside the tensor with unit
  /// inner stride and 16-byte aligned rows: then every chunk is one unguarded cp.async.
  Value blockFastPath(Location loc, const DescParts &desc, ValueRange offsets, int64_t rows,
                      int64_t cols, int64_t elemBytes) {
    Value ok;
    auto both = [&](Value c) { ok = ok ? b.create<arith::AndIOp>(loc, ok, c).getResult() : c; };
    for (int d = 0; d < 2; ++d) {
      Value start = toI64(b, loc, offsets[d]);
      Value end = b.create<arith::AddIOp>(loc, start, i64Const(b, loc, d == 0 ? rows : cols));
      both(b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, start, i64Const(b, loc, 0)));
      both(b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, end, desc.shape[d]));
    }
    both(b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, desc.strides[1], i64Const(b, loc, 1)));
    Value rowBytes = b.create<arith::MulIOp>(loc, desc.strides[0], i64Const(b, loc, elemBytes));
    Value first = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, toI64(b, loc, offsets[0]), desc.strides[0]),
        toI64(b, loc, offsets[1]));
    Value addr = b.create<arith::AddIOp>(
        loc, b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), desc.base),
        b.create<arith::MulIOp>(loc, first, i64Const(b, loc, elemBytes)));
    Value bits = b.create<arith::OrIOp>(loc, rowBytes, addr);
    both(b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                 b.create<arith::AndIOp>(loc, bits, i64Const(b, loc, 15)),
                                 i64Const(b, loc, 0)));
    return ok;
  }

  /// Issues the copy of the block a shared load reads into `dst`, in 16-byte chunks
  /// (thread t takes chunks t, t + threads, ...; row-major). A block wholly inside the
  /// tensor goes by unguarded cp.async from per-thread base addresses; otherwise each
  /// chunk is checked: cp.async when it is in bounds, contiguous and aligned, element by
  /// element with the load's padding when not.
  void copyToShared(LoadOp op, ValueRange offsets, const SharedTile &dst) {
    Location loc = op.getLoc();
    Type elem = op.getType().getElementType();
    const DescParts &desc = descs[op.getDesc()];
    int64_t elemBytes = getElementBitWidth(elem) / 8;
    int64_t vec = 16 / elemBytes, perRow = dst.cols / vec, chunks = dst.rows * perRow;
    auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
    auto globalType = LLVM::LLVMPointerType::get(b.getContext(), 1);
    auto cpAsync = [&](Location l, Value target, Value linear) {
      Value src = b.create<LLVM::GEPOp>(l, ptrType, dst.elem, desc.base, ValueRange{linear});
      src = b.create<LLVM::AddrSpaceCastOp>(l, globalType, src);
      b.create<NVVM::CpAsyncOp>(l, target, src, 16, NVVM::LoadCacheModifierKind::CG, Value());
    };
    // Chunk c sits at row c / perRow, columns vec * (c % perRow) + [0, vec).
    auto place = [&](Location l, Value chunk) -> std::pair<Value, Value> {
      return {b.create<arith::DivUIOp>(l, chunk, cst(l, perRow)),
              b.create<arith::MulIOp>(l, b.create<arith::RemUIOp>(l, chunk, cst(l, perRow)),
                                      cst(l, vec))};
    };
    // Linear element index (i64) of block element (row, col), inside the tensor.
    auto linearOf = [&](Location l, Value row, Value col) -> Value {
      return b.create<arith::AddIOp>(
          l, b.create<arith::MulIOp>(l, toI64(b, l, b.create<arith::AddIOp>(l, offsets[0], row)),
                                     desc.strides[0]),
          toI64(b, l, b.create<arith::AddIOp>(l, offsets[1], col)));
    };
    // For round `first` (chunk t + first): `body` under "this thread has a chunk".
    auto rounds = [&](function_ref<void(Location, int64_t)> body) {
      for (int64_t first = 0; first < chunks; first += threads) {
        Value mine = chunks - first < threads
                         ? b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                                   b.create<arith::AddIOp>(loc, threadId, cst(loc, first)),
                                                   cst(loc, chunks)).getResult()
                         : Value();
        whenTrue(b, loc, mine, [&](OpBuilder &bb, Location l) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
          body(l, first);
        });
      }
    };
    auto ifOp = b.create<scf::IfOp>(loc, TypeRange{},
                                    blockFastPath(loc, desc, offsets, dst.rows, dst.cols, elemBytes),
                                    /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      bool evenRounds = threads % perRow == 0;
      int64_t rowsPerRound = evenRounds ? threads / perRow : 0;
      Value tRow, tCol;
      std::tie(tRow, tCol) = place(loc, threadId);
      Value base = linearOf(loc, tRow, tCol);
      rounds([&](Location l, int64_t first) {
        if (!evenRounds) {
          auto [row, col] = place(l, b.create<arith::AddIOp>(l, threadId, cst(l, first)));
          cpAsync(l, sharedElementPtr(l, dst.base, tileOffset(l, dst, row, col), dst.elem),
                  linearOf(l, row, col));
          return;
        }
        int64_t rowStep = first / threads * rowsPerRound;
        Value linear = b.create<arith::AddIOp>(
            l, base, b.create<arith::MulIOp>(l, desc.strides[0], i64Const(b, l, rowStep)));
        Value at = splitOffset(l, dst, tRow, below(rowsPerRound), rowStep, tCol,
                               below(dst.cols), 0);
        cpAsync(l, sharedElementPtr(l, dst.base, at, dst.elem), linear);
      });
      // Blocks at the tensor's edges (or misaligned, or strided) are rare. With a few
      // chunks per thread each goes by cp.async when it is in bounds, element by element
      // otherwise. With many, the copy is element by element in loops whose trip counts
      // the optimiser cannot see, so they are neither unrolled nor hoisted into registers
      // the fast path's MMAs need.
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      if (chunks <= 2 * threads) {
        rounds([&](Location l, int64_t first) {
          Value row, col;
          std::tie(row, col) = place(l, b.create<arith::AddIOp>(l, threadId, cst(l, first)));
          Value target = sharedElementPtr(l, dst.base, tileOffset(l, dst, row, col), dst.elem);
          auto [fast, linear] = chunkFastPath(l, elem, desc, offsets, {row, col}, vec);
          auto chunkIf = b.create<scf::IfOp>(l, TypeRange{}, fast, /*withElseRegion=*/true);
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPointToStart(&chunkIf.getThenRegion().front());
          cpAsync(l, target, linear);
          b.setInsertionPointToStart(&chunkIf.getElseRegion().front());
          for (int64_t j = 0; j < vec; ++j) {
            Value c = b.create<arith::AddIOp>(l, col, cst(l, j));
            Value v = guardedLoad(b, l, op, desc, offsets, {row, c});
            storeShared(b, l, dst.base, tileOffset(l, dst, row, c), v);
          }
        });
        return;
      }
      auto loopOver = [&](Value lo, int64_t count, int64_t stepBy,
                          function_ref<void(Value)> body) {
        Value hi = inlineAsm(loc, b.getI32Type(), "mov.u32 $0, " + std::to_string(count) + ";",
                             "=r", ValueRange{}, /*sideEffects=*/false);
        auto loop = b.create<scf::ForOp>(loc, lo, hi, cst(loc, stepBy));
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(loop.getBody()->getTerminator());
        body(loop.getInductionVar());
      };
      loopOver(threadId, chunks, threads, [&](Value chunk) {
        Value row, col0;
        std::tie(row, col0) = place(loc, chunk);
        loopOver(cst(loc, 0), vec, 1, [&](Value j) {
          Value col = b.create<arith::AddIOp>(loc, col0, j);
          Value v = guardedLoad(b, loc, op, desc, offsets, {row, col});
          storeShared(b, loc, dst.base, tileOffset(loc, dst, row, col), v);
        });
      });
    }
  }

  /// A load read only by dots: its block goes to a persistent shared tile (or, inside a
  /// pipelined loop, to the stage the copy issued earlier filled).
  LogicalResult lowerSharedLoad(LoadOp op) {
    if (auto it = pipelined.find(op); it != pipelined.end()) {
      sharedTiles[op] = it->second;
      return success();
    }
    Location loc = op.getLoc();
    bool warpgroup = layouts.layoutOf(op).warpgroup;
    SharedTile dst =
        sharedTileFor(op.getType(), sharedAlloc(loc, tileBytes(op.getType()), true), warpgroup,
                      kMajorOperand(op));
    // The previous iteration's dot may still read this tile.
    syncThreads(loc);
    copyToShared(op, offsetsOf(op.getOffsets()), dst);
    b.create<NVVM::CpAsyncCommitGroupOp>(loc);
    b.create<NVVM::CpAsyncWaitGroupOp>(loc, 0);
    if (warpgroup)
      fenceForAsyncProxy(loc);
    syncThreads(loc);
    sharedTiles[op] = dst;
    return success();
  }

  /// Shared memory written by this thread (cp.async or stores) becomes visible to the
  /// tensor cores' async proxy (wgmma reads), once a barrier follows.
  void fenceForAsyncProxy(Location loc) {
    b.create<NVVM::FenceProxyOp>(
        loc, NVVM::ProxyKind::async_shared,
        NVVM::SharedSpaceAttr::get(b.getContext(), NVVM::SharedSpace::shared_cta));
  }
  /// After waiting for a stage: where TMA could not copy it (`tmaOk` false), cp.async
  /// wrote through the generic proxy, and the MMAs read through the async one.
  void fenceUnlessTma(Location loc, Value tmaOk) {
    Value copied = b.create<arith::XOrIOp>(loc, tmaOk, b.create<arith::ConstantIntOp>(loc, 1, 1));
    whenTrue(b, loc, copied, [&](OpBuilder &bb, Location l) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      fenceForAsyncProxy(l);
    });
  }

  /// A dot operand as a shared tile: a shared load's tile, or registers stored to scratch
  /// in the form the dot reads.
  /// `transposed` stores a K x N operand as N x K (each column's K run contiguous).
  SharedTile operandTile(Value v, bool warpgroup, bool transposed = false) {
    if (auto it = sharedTiles.find(v); it != sharedTiles.end())
      return it->second;
    Location loc = v.getLoc();
    auto t = cast<RankedTensorType>(v.getType());
    SharedTile s = sharedTileFor(t, sharedAlloc(loc, tileBytes(t), false, 1024), warpgroup,
                                 transposed);
    Dist d = splatScalars.count(v) ? blocked(t) : distOf(v);
    ArrayRef<Value> values = regs(v, d);
    Value owner = ownerMask(loc, d);
    for (int64_t k = 0; k < perThread(d); ++k) {
      SmallVector<Value> c = coordinates(loc, d, k);
      Value at = tileOffset(loc, s, c[0], c[1]);
      Value raw = toStorage(b, loc, values[k]);
      whenTrue(b, loc, owner, [&](OpBuilder &bb, Location l) { storeShared(bb, l, s.base, at, raw); });
    }
    if (warpgroup)
      fenceForAsyncProxy(loc);
    syncThreads(loc);
    return s;
  }

  /// ldmatrix.x4 of the 16x16 block at (varRow + constRow, varCol + constCol) of `s`
  /// (variable parts multiples of 16 within the masks); `transpose` for B (K x N stored
  /// row-major). Lane l gives the address of row l % 8 of matrix l / 8; matrix q sits
  /// at rows 8 * (q % 2), columns 8 * (q / 2).
  SmallVector<Value> ldmatrix(Location loc, const SharedTile &s, Value varRow, int64_t rowMask,
                              int64_t constRow, Value varCol, int64_t colMask, int64_t constCol,
                              bool transpose) {
    Value lane = b.create<arith::RemUIOp>(loc, threadId, cst(loc, 32));
    Value q = b.create<arith::DivUIOp>(loc, lane, cst(loc, 8));
    Value r = b.create<arith::AddIOp>(
        loc, b.create<arith::RemUIOp>(loc, lane, cst(loc, 8)),
        b.create<arith::MulIOp>(loc, b.create<arith::RemUIOp>(loc, q, cst(loc, 2)), cst(loc, 8)));
    Value c = b.create<arith::MulIOp>(loc, b.create<arith::DivUIOp>(loc, q, cst(loc, 2)), cst(loc, 8));
    Value at = splitOffset(loc, s, b.create<arith::AddIOp>(loc, varRow, r), rowMask | 15, constRow,
                           b.create<arith::AddIOp>(loc, varCol, c), colMask | 8, constCol);
    Type i32 = b.getI32Type();
    auto type = LLVM::LLVMStructType::getLiteral(b.getContext(), {i32, i32, i32, i32});
    Value m = b.create<NVVM::LdMatrixOp>(
        loc, type, sharedElementPtr(loc, s.base, at, s.elem), 4,
        transpose ? NVVM::MMALayout::col : NVVM::MMALayout::row,
        NVVM::LdStMatrixShapeAttr::get(b.getContext(), 8, 8), NVVM::LdStMatrixEltType::B16);
    SmallVector<Value> out;
    for (int64_t i = 0; i < 4; ++i)
      out.push_back(b.create<LLVM::ExtractValueOp>(loc, m, ArrayRef<int64_t>{i}));
    return out;
  }

  /// Dot on tensor cores with the accumulator in registers (MMA layout): for each K
  /// step of 16, every warp loads its A rows and B columns with ldmatrix and issues one
  /// mma.sync m16n8k16 per atom of its block (fragments as the PTX ISA's "Matrix
  /// Fragments for mma.m16n8k16" give them).
  LogicalResult lowerDotMMA(DotOp op, const TileLayout &layout) {
    Location loc = op.getLoc();
    auto a = cast<RankedTensorType>(op.getA().getType());
    Dist d{cast<RankedTensorType>(op.getType()), layout};
    int64_t M = d.type.getDimSize(0), N = d.type.getDimSize(1), K = a.getDimSize(1);
    int64_t wm = M / layout.warpsM, wn = N / layout.warpsN, atomsM = wm / 16, atomsN = wn / 8;
    bool bf16 = a.getElementType().isBF16();
    SharedTile sa = operandTile(op.getA(), false), sb = operandTile(op.getB(), false);
    SmallVector<Value> acc = llvm::to_vector(regs(op.getAcc(), d));
    Value warp = b.create<arith::DivUIOp>(loc, threadId, cst(loc, 32));
    Value rowBase = b.create<arith::MulIOp>(
        loc, b.create<arith::DivUIOp>(loc, warp, cst(loc, layout.warpsN)), cst(loc, wm));
    Value colBase = b.create<arith::MulIOp>(
        loc, b.create<arith::RemUIOp>(loc, warp, cst(loc, layout.warpsN)), cst(loc, wn));
    auto f32 = b.getF32Type();
    auto fragType = LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
    auto operand = [&](Value word) -> Value {
      if (bf16)
        return word;
      return b.create<LLVM::BitcastOp>(loc, VectorType::get({2}, b.getF16Type()), word);
    };
    auto type = bf16 ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
    // Bits the warp offsets can have (power-of-two warp blocks), for splitOffset.
    int64_t rowMask = llvm::isPowerOf2_64(wm) ? below(layout.warpsM) * wm : below(M);
    int64_t colMask = llvm::isPowerOf2_64(wn) ? below(layout.warpsN) * wn : below(N);
    Value zero = cst(loc, 0);
    for (int64_t kk = 0; kk < K; kk += 16) {
      SmallVector<SmallVector<Value>> fa, fb(atomsN);
      for (int64_t i = 0; i < atomsM; ++i)
        fa.push_back(ldmatrix(loc, sa, rowBase, rowMask, i * 16, zero, 0, kk, false));
      for (int64_t j = 0; j < atomsN; j += 2) {
        SmallVector<Value> m = ldmatrix(loc, sb, zero, 0, kk, colBase, colMask, j * 8, true);
        fb[j] = {m[0], m[1]};
        fb[j + 1] = {m[2], m[3]};
      }
      for (int64_t i = 0; i < atomsM; ++i)
        for (int64_t j = 0; j < atomsN; ++j) {
          SmallVector<Value> A, B;
          for (Value w : fa[i])
            A.push_back(operand(w));
          for (Value w : fb[j])
            B.push_back(operand(w));
          int64_t first = (i * atomsN + j) * 4;
          Value r = b.create<NVVM::MmaOp>(
              loc, fragType, A, B, ArrayRef<Value>(acc).slice(first, 4),
              ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
              std::array<NVVM::MMATypes, 2>{type, type},
              std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
          for (int64_t c = 0; c < 4; ++c)
            acc[first + c] = b.create<LLVM::ExtractValueOp>(loc, r, ArrayRef<int64_t>{c});
        }
    }
    tiles[op] = acc;
    return success();
  }

  /// A wgmma matrix descriptor (PTX ISA "Matrix Descriptor Format") for the tile at
  /// `start` (shared address), with 128-byte swizzling: bits 0-13 start >> 4, 16-29 the
  /// leading byte offset >> 4, 32-45 the stride byte offset >> 4, 62-63 swizzle mode 1.
  /// This is the low word; wgmmaDescriptorHigh the high one.
  Value wgmmaDescriptor(Location loc, Value start, int64_t leadingBytes) {
    Value addr = b.create<LLVM::PtrToIntOp>(loc, b.getI32Type(), start);
    Value field = b.create<arith::ShRUIOp>(
        loc, b.create<arith::AndIOp>(loc, addr, cst(loc, 0x3FFFF)), cst(loc, 4));
    return b.create<arith::OrIOp>(loc, field, cst(loc, (leadingBytes >> 4) << 16));
  }
  /// The descriptor's high word: the stride and the 128-byte swizzle mode.
  static int64_t wgmmaDescriptorHigh(int64_t strideBytes) {
    return (strideBytes >> 4) | (int64_t(1) << 30);
  }

  /// What one warpgroup-MMA dot reads: A as packed bf16/f16 pairs (an A already in this
  /// warpgroup's accumulator layout: attention's P) or as a shared tile, and B's shared
  /// tile. `scratch`: an operand was staged in scratch, which the next op may reuse, so
  /// the MMAs must finish before it.
  struct WgmmaOperands {
    SmallVector<Value> aPacked;
    SharedTile a, b;
    bool scratch = false;
  };

  /// Whether `op`'s A operand feeds the MMAs from registers: the m64nNk16 C fragments of
  /// two adjacent 8-column chunks are exactly the A fragment of a 16-wide K step.
  bool wgmmaAInRegisters(DotOp op, const TileLayout &layout) {
    TileLayout la = layouts.layoutOf(op.getA());
    return !splatScalars.count(op.getA()) && la.kind == TileLayoutKind::MmaAccumulator &&
           la.warpgroup && la.warpsM == layout.warpsM && la.atom == 0;
  }

  /// A's accumulator-layout registers as the MMAs' A fragments: per K step of 16, four
  /// b32 pairs (chunks kk / 8 and kk / 8 + 1 of this thread's rows g and g + 8).
  SmallVector<Value> packWgmmaA(Location loc, ArrayRef<Value> a, int64_t K) {
    SmallVector<Value> packed;
    for (int64_t kk = 0; kk < K; kk += 16) {
      int64_t j = kk / 8;
      for (int64_t first : {4 * j, 4 * j + 2, 4 * j + 4, 4 * j + 6}) {
        Value v = b.create<LLVM::PoisonOp>(loc, VectorType::get({2}, a[first].getType()));
        for (int64_t e = 0; e < 2; ++e)
          v = b.create<LLVM::InsertElementOp>(loc, v, a[first + e], cst(loc, e));
        packed.push_back(b.create<LLVM::BitcastOp>(loc, b.getI32Type(), v));
      }
    }
    return packed;
  }

  WgmmaOperands wgmmaOperands(DotOp op, const TileLayout &layout) {
    WgmmaOperands in;
    auto a = cast<RankedTensorType>(op.getA().getType());
    if (wgmmaAInRegisters(op, layout)) {
      Dist da{a, layouts.layoutOf(op.getA())};
      in.aPacked = packWgmmaA(op.getLoc(), regs(op.getA(), da), a.getDimSize(1));
    } else {
      in.scratch = !sharedTiles.count(op.getA());
      in.a = operandTile(op.getA(), true);
    }
    in.scratch |= !sharedTiles.count(op.getB());
    in.b = operandTile(op.getB(), true);
    return in;
  }

  /// Dot on Hopper's warpgroup MMAs: warpgroup g computes rows [64g, 64g + 64) of the
  /// result with one wgmma.mma_async m64nNk16 per K step of 16, both operands read from
  /// shared memory through descriptors (A K-major, B N-major, 64-column blocks with the
  /// 128-byte swizzle) or A from registers; the accumulator fragments are the MMA layout
  /// with one warp per 16 rows, so they stay in registers across a K loop like
  /// mma.sync's. The MMAs are left in flight: their result registers are waited for
  /// where they are first read (waitWgmma).
  LogicalResult lowerDotWgmma(DotOp op, const TileLayout &layout) {
    WgmmaOperands in = wgmmaOperands(op, layout);
    Dist d{cast<RankedTensorType>(op.getType()), layout};
    SmallVector<Value> acc = llvm::to_vector(regs(op.getAcc(), d));
    if (op == turnStart)
      turnBarrier(op.getLoc(), "barrier.sync", 0);
    tiles[op] = issueWgmma(op, in, acc, wgmmaAccumulate.lookup(op));
    if (op == turnEnd)
      turnBarrier(op.getLoc(), "barrier.arrive", 1);
    if (deferWgmmaWait) {
      b.create<NVVM::WgmmaWaitGroupSyncOp>(op.getLoc(), 1);
      return success();
    }
    pendingWgmma.push_back(op);
    if (in.scratch)
      waitWgmma(op.getLoc(), op);
    return success();
  }

  /// This thread's warpgroup.
  Value warpgroup(Location loc) { return b.create<arith::DivUIOp>(loc, threadId, cst(loc, 128)); }

  /// Ping-pong (FlashAttention-3's inter-warpgroup schedule) in an overlapped loop: a
  /// warpgroup's turn at the tensor cores covers what it issues together, one
  /// iteration's S = Q·Kᵀ and the previous one's P·V (the first head's S alone, the last
  /// tail's P·V alone), so while one warpgroup computes its softmax the others' MMAs run.
  /// Warpgroup g waits on named barrier kFirstTurnBarrier + g before a turn and passes it
  /// to g + 1 (cyclically) after; each barrier counts two warpgroups, its owner's sync and
  /// the previous one's arrive. The barriers are not `.aligned`: the edges are other
  /// instructions than the loop's.
  bool takeTurns() { return pingPong && threads >= 256; }
  /// `instr` ("barrier.sync" or "barrier.arrive") on the turn barrier of the warpgroup `ahead`
  /// places after this one.
  void turnBarrier(Location loc, StringRef instr, int64_t ahead) {
    int64_t groups = threads / 128;
    Value group = warpgroup(loc);
    Value next = b.create<arith::RemUIOp>(loc, b.create<arith::AddIOp>(loc, group, cst(loc, ahead)),
                                          cst(loc, groups));
    Value id = b.create<arith::AddIOp>(loc, next, cst(loc, kFirstTurnBarrier));
    asmVoid(loc, (instr + " $0, 256;").str(), "r", {id});
  }
  /// Before (`entering`) or after a loop that takes turns. Entering, the last warpgroup
  /// hands the first turn out. Leaving, each waits on its own barrier (the first takes
  /// back the last one's final pass), then passes on to the next but the last: every
  /// barrier balances, and no warpgroup reaches a later loop's turns while another still
  /// waits on this loop's.
  void turnEdge(Location loc, bool entering) {
    int64_t groups = threads / 128;
    Value group = warpgroup(loc);
    if (!entering)
      turnBarrier(loc, "barrier.sync", 0);
    Value passes = b.create<arith::CmpIOp>(loc, entering ? arith::CmpIPredicate::eq
                                                          : arith::CmpIPredicate::ne,
                                           group, cst(loc, groups - 1));
    whenTrue(b, loc, passes, [&](OpBuilder &bb, Location l) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      turnBarrier(l, "barrier.arrive", 1);
    });
  }

  /// Issues `op`'s MMAs on `in` into `accIn` and commits them as one group; returns the
  /// result registers (not yet valid). `accumulate` (i1, null: true) is scale-d.
  SmallVector<Value> issueWgmma(DotOp op, const WgmmaOperands &in, ArrayRef<Value> accIn,
                                Value accumulate) {
    Location loc = op.getLoc();
    auto a = cast<RankedTensorType>(op.getA().getType());
    int64_t M = op.getType().getDimSize(0), N = op.getType().getDimSize(1), K = a.getDimSize(1);
    bool bf16 = a.getElementType().isBF16();
    bool aInRegisters = !in.aPacked.empty();
    SmallVector<Value> acc(accIn);
    int64_t n = acc.size();
    auto accType = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                    SmallVector<Type>(n, b.getF32Type()));
    Value group = warpgroup(loc);
    // This warpgroup's 64 rows of A: 64 * 128 bytes into each 64-column block.
    Value rowBytes = b.create<arith::MulIOp>(loc, group, cst(loc, 64 * 128));
    // Inline PTX so that "accumulate" (scale-d) is a run-time predicate: a loop whose
    // accumulator starts at zero passes false on its first iteration instead of zeroing
    // the registers, since other instructions writing them would serialise the MMAs.
    std::string asmText;
    llvm::raw_string_ostream os(asmText);
    // Descriptors come as their low words (the address moves, the rest is fixed).
    int64_t scaleAt = n + (aInRegisters ? 5 : 2);
    os << "{\n.reg .pred p;\n.reg .b32 hi;\n.reg .b64 da, db;\nmov.b32 hi, "
       << wgmmaDescriptorHigh(1024) << ";\nmov.b64 db, {$" << scaleAt - 1 << ", hi};\n";
    if (!aInRegisters)
      os << "mov.b64 da, {$" << n << ", hi};\n";
    os << "setp.ne.b32 p, $" << scaleAt << ", 0;\nwgmma.mma_async.sync.aligned.m64n"
       << N << "k16.f32." << (bf16 ? "bf16.bf16" : "f16.f16") << " {";
    std::string constraints;
    for (int64_t i = 0; i < n; ++i) {
      os << (i ? ", $" : "$") << i;
      constraints += "=f,";
    }
    // B N-major (transposed for the MMA) unless stored K-major like A.
    // Operands after the n accumulators: A (a descriptor, or four registers), B, scale-d.
    if (aInRegisters)
      os << "}, {$" << n << ", $" << n + 1 << ", $" << n + 2 << ", $" << n + 3
         << "}, db, p, 1, 1, " << (in.b.transposed ? 0 : 1) << ";\n}";
    else
      os << "}, da, db, p, 1, 1, 0, " << (in.b.transposed ? 0 : 1) << ";\n}";
    constraints += aInRegisters ? "r,r,r,r,r,r" : "r,r,r";
    for (int64_t i = 0; i < n; ++i)
      constraints += "," + std::to_string(i);
    Value scaleD = accumulate
                       ? b.create<arith::ExtUIOp>(loc, b.getI32Type(), accumulate).getResult()
                       : cst(loc, 1);
    // A (and K-major B): 8-row groups 1024 bytes apart. N-major B: 8-row (k) groups
    // 1024 bytes apart, 64-column (n) blocks K * 128 bytes apart. Each K step's
    // descriptor is the first one plus its byte offset / 16: the address field cannot
    // carry out within shared memory, and one add per step is all ptxas has to issue
    // between the MMAs.
    Value bDesc0 = wgmmaDescriptor(loc, in.b.base, in.b.transposed ? 16 : K * 128);
    Value aDesc0;
    if (!aInRegisters)
      aDesc0 = wgmmaDescriptor(
          loc, b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), in.a.base, ValueRange{rowBytes}),
          16);
    auto advance = [&](Value desc, int64_t bytes) -> Value {
      return bytes ? b.create<arith::AddIOp>(loc, desc, cst(loc, bytes >> 4)).getResult() : desc;
    };
    b.create<NVVM::WgmmaFenceAlignedOp>(loc);
    for (int64_t kk = 0; kk < K; kk += 16) {
      int64_t bBytes = in.b.transposed ? ((kk / 64) * N * 64 + kk % 64) * 2 : kk * 128;
      Value bDesc = advance(bDesc0, bBytes);
      SmallVector<Value> operands;
      if (aInRegisters)
        llvm::append_range(operands, ArrayRef<Value>(in.aPacked).slice(kk / 4, 4));
      else
        operands.push_back(advance(aDesc0, ((kk / 64) * M * 64 + kk % 64) * 2));
      operands.push_back(bDesc);
      operands.push_back(scaleD);
      llvm::append_range(operands, acc);
      Value r = inlineAsm(loc, accType, asmText, constraints, operands);
      for (int64_t i = 0; i < n; ++i)
        acc[i] = b.create<LLVM::ExtractValueOp>(loc, r, ArrayRef<int64_t>{i});
      scaleD = cst(loc, 1);
    }
    b.create<NVVM::WgmmaGroupSyncAlignedOp>(loc);
    return acc;
  }

  /// Waits for the MMA group that produces `v` (null: every group in flight) and the
  /// groups issued before it. The registers of the finished groups pass through the
  /// wait (tied operands), so nothing reads them before it.
  void waitWgmma(Location loc, Value v = Value()) {
    if (pendingWgmma.empty())
      return;
    auto it = v ? llvm::find(pendingWgmma, v) : std::prev(pendingWgmma.end());
    size_t done = it - pendingWgmma.begin() + 1;
    SmallVector<Value> held;
    for (Value p : ArrayRef<Value>(pendingWgmma).take_front(done))
      llvm::append_range(held, tiles[p]);
    std::string text = "wgmma.wait_group.sync.aligned " +
                       std::to_string(pendingWgmma.size() - done) + ";";
    std::string constraints;
    for (size_t i = 0; i < held.size(); ++i)
      constraints += i ? ",=f" : "=f";
    for (size_t i = 0; i < held.size(); ++i)
      constraints += "," + std::to_string(i);
    auto type = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                 SmallVector<Type>(held.size(), b.getF32Type()));
    Value r = held.empty() ? inlineAsm(loc, Type(), text, "", {})
                           : inlineAsm(loc, type, text, constraints, held);
    int64_t at = 0;
    for (Value p : ArrayRef<Value>(pendingWgmma).take_front(done))
      for (Value &reg : tiles[p])
        reg = b.create<LLVM::ExtractValueOp>(loc, r, ArrayRef<int64_t>{at++});
    bool released = earlyRelease && llvm::is_contained(
                                        ArrayRef<Value>(pendingWgmma).take_front(done),
                                        earlyRelease->dot);
    pendingWgmma.erase(pendingWgmma.begin(), pendingWgmma.begin() + done);
    if (released) {
      EarlyRelease r = std::move(*earlyRelease);
      earlyRelease.reset();
      releaseLoads(loc, r.loads, r.stage);
    }
  }

  /// Before `op` reads a tile whose MMAs are in flight, waits for them; before control
  /// flow or a terminator, for all (MMAs never stay in flight across blocks). Combiner
  /// regions (reductions, scans) only see elements.
  void waitWgmmaFor(Operation *op) {
    if (pendingWgmma.empty())
      return;
    if ((op->getNumRegions() != 0 && !isa<ReduceOp, ScanOp>(op)) ||
        op->hasTrait<OpTrait::IsTerminator>()) {
      waitWgmma(op->getLoc());
      return;
    }
    // The newest group among the operands (groups finish in order).
    auto last = llvm::find_if(llvm::reverse(pendingWgmma), [&](Value p) {
      return llvm::is_contained(op->getOperands(), p);
    });
    if (last != llvm::reverse(pendingWgmma).end())
      waitWgmma(op->getLoc(), *last);
  }

  /// The 2D block read rules (cl_intel_subgroup_2d_block_io): a 64-byte aligned base,
  /// unit-stride rows at least 64 bytes wide (a multiple of 4), a pitch that is a
  /// multiple of 16 bytes no smaller than the width, sizes below 2^24, an even column
  /// offset.
  LogicalResult lowerBlockIOLoad(LoadOp op) {
    Location loc = op.getLoc();
    const DescParts &desc = descs[op.getDesc()];
    Type i64 = b.getI64Type(), i32 = b.getI32Type();
    auto c64 = [&](int64_t v) { return intConst(b, loc, i64, v); };
    auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) {
      return b.create<arith::CmpIOp>(loc, p, x, y).getResult();
    };
    auto all = [&](ArrayRef<Value> conds) {
      Value r = conds.front();
      for (Value c : conds.drop_front())
        r = b.create<arith::AndIOp>(loc, r, c);
      return r;
    };
    auto multipleOf = [&](Value x, int64_t m) {
      return cmp(arith::CmpIPredicate::eq, b.create<arith::RemUIOp>(loc, x, c64(m)), c64(0));
    };
    BlockIOTile t{op, offsetsOf(op.getOffsets()), {}, {}, {}, {}};
    Value width = b.create<arith::MulIOp>(loc, desc.shape[1], c64(2));
    Value pitch = b.create<arith::MulIOp>(loc, desc.strides[0], c64(2));
    Value base = b.create<LLVM::PtrToIntOp>(loc, i64, desc.base);
    Value col = b.create<arith::ExtSIOp>(loc, i64, toI32(loc, t.offsets[1]));
    Value limit = c64(int64_t(1) << 24);
    t.direct = all({cmp(arith::CmpIPredicate::eq, desc.strides[1], c64(1)), multipleOf(base, 64),
                    cmp(arith::CmpIPredicate::sge, width, c64(64)), multipleOf(width, 4),
                    cmp(arith::CmpIPredicate::sle, width, limit),
                    cmp(arith::CmpIPredicate::sge, pitch, width), multipleOf(pitch, 16),
                    cmp(arith::CmpIPredicate::sle, pitch, limit),
                    cmp(arith::CmpIPredicate::sle, desc.shape[0], limit),
                    cmp(arith::CmpIPredicate::sge, desc.shape[0], c64(1)), multipleOf(col, 2)});
    t.widthBytes = b.create<arith::TruncIOp>(loc, i32, width);
    t.height = b.create<arith::TruncIOp>(loc, i32, desc.shape[0]);
    t.pitchBytes = b.create<arith::TruncIOp>(loc, i32, pitch);
    blockIOTiles.try_emplace(op.getResult(), std::move(t));
    return success();
  }

  Value toI32(Location loc, Value v) {
    Type i32 = b.getI32Type();
    if (v.getType() == i32)
      return v;
    if (v.getType().isIndex())
      return b.create<arith::IndexCastOp>(loc, i32, v);
    return b.create<arith::TruncIOp>(loc, i32, v);
  }

  /// Dot on AMD matrix cores (MFMA 32x32x8 on CDNA, WMMA 16x16x16 on RDNA3) and Intel
  /// DPAS (8x16x16): for each K step every wave reads its A and B fragments at the places
  /// the atom's TV layouts give and issues one instruction per atom of its block; the
  /// accumulator fragments stay in registers. Operands come from LDS/SLM element by
  /// element, or on Intel straight from global memory with 2D block reads (A rows
  /// 8r16x1c, B with the VNNI transform 16r16x1c: exactly DPAS's fragments).
  LogicalResult lowerDotAtom(DotOp op, const TileLayout &layout) {
    Location loc = op.getLoc();
    const auto &atom = matrixAtom(layout.atom);
    bool intel = layout.atom == kIntelDpas8x16x16;
    auto a = cast<RankedTensorType>(op.getA().getType());
    Dist d{cast<RankedTensorType>(op.getType()), layout};
    int64_t M = d.type.getDimSize(0), N = d.type.getDimSize(1), K = a.getDimSize(1);
    int64_t wm = M / layout.warpsM, wn = N / layout.warpsN;
    int64_t atomsM = wm / atom.m, atomsN = wn / atom.n, values = atom.m * atom.n / atom.threads;
    // A and B elements per lane (WMMA: both half-waves hold whole rows and columns).
    int64_t itemsA = atom.m * atom.k / atom.threads, itemsB = atom.n * atom.k / atom.threads;
    if (layout.atom == kAmdWmma16x16x16)
      itemsA = itemsB = atom.k;
    bool bf16 = a.getElementType().isBF16();
    // Each operand: a BlockIO load (Intel) or a shared tile.
    auto source = [&](Value v) -> std::pair<const BlockIOTile *, SharedTile> {
      if (auto it = blockIOTiles.find(v); it != blockIOTiles.end())
        return {&it->second, SharedTile{}};
      return {nullptr, operandTile(v, false, /*transposed=*/v == op.getB())};
    };
    std::pair<const BlockIOTile *, SharedTile> srcA = source(op.getA()), srcB = source(op.getB());
    const BlockIOTile *ioA = srcA.first, *ioB = srcB.first;
    SharedTile sa = srcA.second, sb = srcB.second;
    SmallVector<Value> acc = llvm::to_vector(regs(op.getAcc(), d));
    Value warp = b.create<arith::DivUIOp>(loc, threadId, cst(loc, warpSize));
    Value rowBase = b.create<arith::MulIOp>(
        loc, b.create<arith::DivUIOp>(loc, warp, cst(loc, layout.warpsN)), cst(loc, wm));
    Value colBase = b.create<arith::MulIOp>(
        loc, b.create<arith::RemUIOp>(loc, warp, cst(loc, layout.warpsN)), cst(loc, wn));
    // Intel's DPAS takes 16-bit lanes as integers; AMD's f16 intrinsics take f16.
    Type lane16 = bf16 || intel ? (Type)b.getI16Type() : b.getF16Type();
    auto accType = VectorType::get({values}, b.getF32Type());
    // Fragment of A (rows) or B (columns) for atom row/column `block` at K step `kk`: item
    // e is tile index idx = tv(lane, e) = mn + atomMN * k, read lane by lane.
    auto gather = [&](const BlockIOTile *io, const SharedTile &s, const ::kiln::layout::Layout &tv,
                      bool isA, Value base, int64_t block, int64_t kk) {
      int64_t mn = isA ? atom.m : atom.n, items = isA ? itemsA : itemsB;
      Value frag = b.create<LLVM::PoisonOp>(loc, VectorType::get({items}, lane16));
      for (int64_t e = 0; e < items;) {
        Value idx = tvIndex(loc, tv, e);
        Value along = b.create<arith::AddIOp>(
            loc, base, b.create<arith::AddIOp>(loc, b.create<arith::RemUIOp>(loc, idx, cst(loc, mn)),
                                               cst(loc, block * mn)));
        Value kIdx = b.create<arith::AddIOp>(
            loc, b.create<arith::DivUIOp>(loc, idx, cst(loc, mn)), cst(loc, kk));
        Value row = isA ? along : kIdx, col = isA ? kIdx : along;
        // Shared tiles store A as M x K and B as N x K: items whose value offsets step
        // along K by one are one vector read (up to 16 bytes).
        int64_t run = 1;
        if (!io && s.swizzle.isIdentity() && tv[1](e) % mn == 0)
          while (run < 8 && e + run < items && tv[1](e + run) == tv[1](e) + run * mn)
            ++run;
        run = llvm::bit_floor(uint64_t(run));
        if (run > 1) {
          Value at = tileOffset(loc, s, row, col);
          auto vecType = VectorType::get({run}, s.elem);
          // Aligned when every lane's run starts at a multiple of `run` along K.
          bool aligned = s.cols % run == 0 && kk % run == 0;
          for (int64_t lane = 0; lane < atom.threads; ++lane)
            aligned &= tv(lane + atom.threads * e) / mn % run == 0;
          int64_t align = aligned ? 2 * run : 2;
          Value v = b.create<LLVM::LoadOp>(loc, vecType, sharedElementPtr(loc, s.base, at, s.elem),
                                           align);
          for (int64_t r = 0; r < run; ++r) {
            Value raw = b.create<LLVM::ExtractElementOp>(loc, v, cst(loc, r));
            if (raw.getType() != lane16)
              raw = b.create<LLVM::BitcastOp>(loc, lane16, raw);
            frag = b.create<LLVM::InsertElementOp>(loc, frag, raw, cst(loc, e + r));
          }
          e += run;
          continue;
        }
        Value raw = io ? guardedLoad(b, loc, io->load, descs[io->load.getDesc()], io->offsets,
                                     {row, col})
                       : loadShared(loc, s.base, tileOffset(loc, s, row, col), s.elem);
        if (raw.getType() != lane16)
          raw = b.create<LLVM::BitcastOp>(loc, lane16, raw);
        frag = b.create<LLVM::InsertElementOp>(loc, frag, raw, cst(loc, e));
        ++e;
      }
      return frag;
    };
    // DPAS takes B's pairs along K packed in 32-bit lanes.
    auto packB = [&](Value frag) -> Value {
      auto v = cast<VectorType>(frag.getType());
      return b.create<LLVM::BitcastOp>(loc, VectorType::get({v.getNumElements() / 2}, b.getI32Type()),
                                       frag);
    };
    auto fragment = [&](bool isA, int64_t block, int64_t kk) -> Value {
      const BlockIOTile *io = isA ? ioA : ioB;
      const SharedTile &s = isA ? sa : sb;
      const auto &tv = isA ? atom.a : atom.b;
      Value base = isA ? rowBase : colBase;
      if (!io) {
        Value f = gather(nullptr, s, tv, isA, base, block, kk);
        return intel && !isA ? packB(f) : f;
      }
      Type type = isA ? (Type)VectorType::get({itemsA}, b.getI16Type())
                      : VectorType::get({itemsB / 2}, b.getI32Type());
      auto ifOp = b.create<scf::IfOp>(loc, TypeRange{type}, io->direct, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      // x runs along columns, y along rows (elements), from the tensor's origin.
      Value along = b.create<arith::AddIOp>(loc, base, cst(loc, block * (isA ? atom.m : atom.n)));
      Value rowOff = toI32(loc, io->offsets[0]), colOff = toI32(loc, io->offsets[1]);
      Value x = b.create<arith::AddIOp>(loc, colOff, isA ? cst(loc, kk) : along);
      Value y = b.create<arith::AddIOp>(loc, rowOff, isA ? along : cst(loc, kk));
      Value ptr = descs[io->load.getDesc()].base;
      Value read = b.create<xevm::BlockLoad2dOp>(
          loc, type, ptr, io->widthBytes, io->height, io->pitchBytes, x, y, /*elem_size=*/16,
          /*tile_width=*/16, /*tile_height=*/isA ? atom.m : atom.k, /*v_blocks=*/1,
          /*transpose=*/false, /*pack_register=*/!isA, xevm::LoadCacheControlAttr());
      b.create<scf::YieldOp>(loc, read);
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      Value f = gather(io, s, tv, isA, base, block, kk);
      b.create<scf::YieldOp>(loc, isA ? f : packB(f));
      return ifOp.getResult(0);
    };
    for (int64_t kk = 0; kk < K; kk += atom.k) {
      SmallVector<Value> fa, fb;
      for (int64_t i = 0; i < atomsM; ++i)
        fa.push_back(fragment(true, i, kk));
      for (int64_t j = 0; j < atomsN; ++j)
        fb.push_back(fragment(false, j, kk));
      for (int64_t i = 0; i < atomsM; ++i)
        for (int64_t j = 0; j < atomsN; ++j) {
          int64_t first = (i * atomsN + j) * values;
          Value c = b.create<LLVM::PoisonOp>(loc, accType);
          for (int64_t v = 0; v < values; ++v)
            c = b.create<LLVM::InsertElementOp>(loc, c, acc[first + v], cst(loc, v));
          Value r;
          if (intel) {
            auto in = bf16 ? xevm::ElemType::BF16 : xevm::ElemType::F16;
            r = b.create<xevm::MMAOp>(
                loc, accType, fa[i], fb[j], c,
                xevm::MMAShapeAttr::get(b.getContext(), atom.m, atom.n, atom.k),
                xevm::MMATypesAttr::get(b.getContext(), xevm::ElemType::F32, in, in,
                                        xevm::ElemType::F32));
          } else if (layout.atom == kAmdMfma32x32x8) {
            SmallVector<Value> args{fa[i], fb[j], c, cst(loc, 0), cst(loc, 0), cst(loc, 0)};
            r = bf16 ? b.create<ROCDL::mfma_f32_32x32x8bf16_1k>(loc, accType, args).getResult()
                     : b.create<ROCDL::mfma_f32_32x32x8f16>(loc, accType, args).getResult();
          } else {
            r = bf16 ? b.create<ROCDL::wmma_f32_16x16x16_bf16>(loc, accType, fa[i], fb[j], c)
                           .getResult()
                     : b.create<ROCDL::wmma_f32_16x16x16_f16>(loc, accType, fa[i], fb[j], c)
                           .getResult();
          }
          for (int64_t v = 0; v < values; ++v)
            acc[first + v] = b.create<LLVM::ExtractElementOp>(loc, r, cst(loc, v));
        }
    }
    tiles[op] = acc;
    return success();
  }

  LogicalResult lowerDot(DotOp op) {
    if (auto layout = layouts.dotLayout(op)) {
      if (layout->atom != 0)
        return lowerDotAtom(op, *layout);
      return layout->warpgroup ? lowerDotWgmma(op, *layout) : lowerDotMMA(op, *layout);
    }
    Location loc = op.getLoc();
    auto a = cast<RankedTensorType>(op.getA().getType());
    auto bt = cast<RankedTensorType>(op.getB().getType());
    Dist d = distOf(op);
    Type accType = d.type.getElementType();
    int64_t rank = d.type.getRank(), kDim = a.getDimSize(rank - 1);
    Value bufA = toShared(loc, op.getA()), bufB = toShared(loc, op.getB());
    ArrayRef<Value> acc = regs(op.getAcc(), d);
    bool isFloat = isa<FloatType>(accType);
    SmallVector<Value> out;
    for (int64_t k = 0; k < perThread(d); ++k) {
      SmallVector<Value> cc = coordinates(loc, d, k);
      auto loop = b.create<scf::ForOp>(
          loc, cst(loc, 0), cst(loc, kDim), cst(loc, 1), ValueRange{acc[k]},
          [&](OpBuilder &inner, Location l, Value kk, ValueRange accs) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(inner.getInsertionBlock(), inner.getInsertionPoint());
            SmallVector<Value> ac(cc), bc(cc);
            ac[rank - 1] = kk;
            bc[rank - 2] = kk;
            Value x = readShared(l, bufA, linearize(l, a.getShape(), ac), a.getElementType());
            Value y = readShared(l, bufB, linearize(l, bt.getShape(), bc), bt.getElementType());
            x = castElements(b, l, x, accType, false);
            y = castElements(b, l, y, accType, false);
            Value next = isFloat ? (Value)b.create<math::FmaOp>(l, x, y, accs[0])
                                 : b.create<arith::AddIOp>(l, accs[0], b.create<arith::MulIOp>(l, x, y));
            b.create<scf::YieldOp>(l, next);
          });
      out.push_back(loop.getResult(0));
    }
    tiles[op] = out;
    return success();
  }

  // --- control flow -------------------------------------------------------------

  /// Registers of `values` in the layouts of `like` (block arguments or results).
  SmallVector<Value> flatten(ValueRange values, ValueRange like) {
    SmallVector<Value> out;
    for (auto [v, l] : llvm::zip(values, like)) {
      if (isa<RankedTensorType>(v.getType()))
        llvm::append_range(out, regs(v, distOf(l)));
      else
        out.push_back(scalar(v));
    }
    return out;
  }
  /// Maps `originals` to consecutive runs of `flat`.
  void unflatten(ValueRange originals, ValueRange flat) {
    size_t i = 0;
    for (Value v : originals) {
      if (isa<RankedTensorType>(v.getType())) {
        int64_t n = perThread(distOf(v));
        tiles[v] = SmallVector<Value>(flat.begin() + i, flat.begin() + i + n);
        i += n;
      } else {
        scalars.map(v, flat[i++]);
      }
    }
  }

  /// Loads of `loop`'s body whose copies can run ahead: shared loads of descriptors made
  /// outside the loop at offsets computed by pure scalar ops from the induction variable
  /// and outer values. Returns them with the body ops their offsets need.
  /// `lowered`: the descriptors are known (else: analysing before lowering).
  SmallVector<LoadOp> pipelinableLoads(scf::ForOp loop, SetVector<Operation *> &slice,
                                       bool lowered = true) {
    SmallVector<LoadOp> loads;
    if (stages < 2 || !target.nvidiaMma)
      return loads;
    Block *body = loop.getBody();
    for (Operation &op : body->without_terminator()) {
      auto load = dyn_cast<LoadOp>(&op);
      if (!load || layouts.layoutOf(load).kind != TileLayoutKind::Shared ||
          (lowered ? !descs.count(load.getDesc())
                   : load.getDesc().getParentBlock() == body))
        continue;
      SetVector<Operation *> mine;
      bool pure = true;
      SmallVector<Value> work(load.getOffsets());
      while (!work.empty() && pure) {
        Value v = work.pop_back_val();
        Operation *def = v.getDefiningOp();
        if (!def || def->getBlock() != body)
          continue; // the induction variable or an outer value
        if (mine.contains(def))
          continue;
        pure = def->getNumRegions() == 0 && isMemoryEffectFree(def) &&
               !isa<KilnDialect>(def->getDialect()) &&
               llvm::none_of(def->getResultTypes(), llvm::IsaPred<ShapedType>);
        mine.insert(def);
        llvm::append_range(work, def->getOperands());
      }
      if (!pure)
        continue;
      loads.push_back(load);
      slice.insert(mine.begin(), mine.end());
    }
    return loads;
  }

  /// Whether every warpgroup-MMA dot of `loop`'s body accumulates into a loop-carried
  /// tile that nothing else reads (so its MMAs may finish in the next iteration), and
  /// there is at least one.
  bool carriedWgmmaOnly(scf::ForOp loop) {
    bool any = false;
    for (Operation &inner : loop.getBody()->without_terminator()) {
      auto dot = dyn_cast<DotOp>(&inner);
      if (!dot) {
        if (inner.getNumRegions() != 0 && inner.walk([&](DotOp) { return WalkResult::interrupt(); })
                                              .wasInterrupted())
          return false;
        continue;
      }
      std::optional<TileLayout> l = layouts.dotLayout(dot);
      if (!l || !l->warpgroup)
        continue;
      auto arg = dyn_cast<BlockArgument>(dot.getAcc());
      if (!arg || arg.getOwner() != loop.getBody() || !arg.hasOneUse() ||
          !dot->hasOneUse() || !isa<scf::YieldOp>(*dot->getUsers().begin()) ||
          dot->getUses().begin()->getOperandNumber() + 1 != arg.getArgNumber())
        return false;
      any = true;
    }
    return any;
  }

  /// Issues the copies of `loads` for the iteration at `iv` into stage `stage` of their
  /// buffers, when `iv` is inside the loop. Without `barriers` it then commits a cp.async
  /// group (possibly empty, so every thread counts the same groups); with them (TMA
  /// pipelines: the stages' mbarriers) the copies complete on the stage's mbarrier, by
  /// TMA or, where `tmaOk` is false, by cp.async.
  void issueStage(scf::ForOp loop, ArrayRef<LoadOp> loads, const SetVector<Operation *> &slice,
                  ArrayRef<SharedTile> buffers, Value iv, Value stage, Value barriers,
                  Value tmaOk) {
    Location loc = loop.getLoc();
    Value inside = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, iv,
                                           scalar(loop.getUpperBound()));
    whenTrue(b, loc, inside, [&](OpBuilder &bb, Location l) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      IRMapping ahead = scalars;
      ahead.map(loop.getInductionVar(), iv);
      SmallVector<Operation *> ordered(slice.begin(), slice.end());
      llvm::sort(ordered, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
      for (Operation *op : ordered)
        b.clone(*op, ahead);
      SmallVector<SmallVector<Value>> offsets;
      SmallVector<SharedTile> tiles;
      for (auto [l0, buffer] : llvm::zip(loads, buffers)) {
        LoadOp load = l0;
        offsets.emplace_back();
        for (Value v : load.getOffsets())
          offsets.back().push_back(ahead.lookupOrDefault(v));
        tiles.push_back(stageOf(buffer, stage, load.getType()));
      }
      auto copy = [&] {
        for (auto [l0, offs, tile] : llvm::zip(loads, offsets, tiles))
          copyToShared(LoadOp(l0), offs, tile);
      };
      if (!barriers) {
        copy();
        return;
      }
      Value bar = stageBarrier(l, barriers, stage);
      auto ifOp = b.create<scf::IfOp>(l, TypeRange{}, tmaOk, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      issueTma(l, loads, offsets, tiles, bar);
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      copy();
      asmVoid(l, "cp.async.mbarrier.arrive.noinc.shared::cta.b64 [$0];", "r", {bar});
    });
    if (!barriers)
      b.create<NVVM::CpAsyncCommitGroupOp>(loc);
  }
  /// The tile of stage `stage` (i32) in a buffer of `stages` tiles.
  SharedTile stageOf(SharedTile buffer, Value stage, RankedTensorType t) {
    Location loc = buffer.base.getLoc();
    Value offset = b.create<arith::MulIOp>(loc, stage, cst(loc, tileBytes(t)));
    buffer.base = b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), buffer.base,
                                        ValueRange{offset});
    return buffer;
  }


  // --- TMA (sm_90a) ---------------------------------------------------------------

  /// Inline PTX with one result (`result` null: none).
  Value inlineAsm(Location loc, Type result, StringRef text, StringRef constraints,
                  ValueRange operands, bool sideEffects = true) {
    auto op = b.create<LLVM::InlineAsmOp>(
        loc, result ? TypeRange{result} : TypeRange{}, operands, text, constraints, sideEffects,
        /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
        LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT), ArrayAttr());
    return result ? op.getResult(0) : Value();
  }
  void asmVoid(Location loc, StringRef text, StringRef constraints, ValueRange operands) {
    inlineAsm(loc, Type(), text, constraints, operands);
  }
  Value sharedAddress(Location loc, Value p) {
    return b.create<LLVM::PtrToIntOp>(loc, b.getI32Type(), p);
  }

  /// Whether a pipelined shared load can be copied by TMA: a warpgroup-MMA operand
  /// (128-byte swizzled 64-column blocks, exactly TMA's 128-byte swizzle) of 16-bit
  /// elements, zero padding (TMA fills with zeros), at most 256 rows (one box).
  bool tmaEligible(LoadOp load) {
    TileLayout l = layouts.layoutOf(load);
    RankedTensorType t = load.getType();
    Type elem = t.getElementType();
    bool zeroPadding = !load.getPaddingAttr() || isZeroPadding(load.getPaddingAttr());
    if (!(useTma && target.nvidiaWgmma && l.kind == TileLayoutKind::Shared && l.warpgroup &&
          t.getRank() == 2 && (elem.isBF16() || elem.isF16()) && zeroPadding))
      return false;
    // Boxes of 64 contiguous elements by at most 256 lines.
    if (kMajorOperand(load))
      return true;
    return t.getDimSize(1) % 64 == 0 && t.getDimSize(0) <= 256 && t.getDimSize(0) % 8 == 0;
  }

  /// The kernel's global scratch parameter (added on first use, after the others).
  Value scratch(Location loc) {
    if (!scratchArg) {
      unsigned index = func.getNumArguments();
      if (failed(func.insertArgument(index, LLVM::LLVMPointerType::get(b.getContext()),
                                     DictionaryAttr::get(b.getContext()), loc)))
        llvm::report_fatal_error("cannot add the scratch parameter");
      scratchArg = func.getArgument(index);
    }
    return scratchArg;
  }

  /// Whether TMA can address a load's tensor (decided at run time): unit inner stride,
  /// 16-byte aligned base and pitch, sizes it can describe.
  Value tmaUsable(Location loc, LoadOp load) {
    const DescParts &desc = descs[load.getDesc()];
    Type i64 = b.getI64Type();
    auto c64 = [&](int64_t v) { return intConst(b, loc, i64, v); };
    auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) {
      return b.create<arith::CmpIOp>(loc, p, x, y).getResult();
    };
    auto aligned16 = [&](Value x) {
      return cmp(arith::CmpIPredicate::eq, b.create<arith::AndIOp>(loc, x, c64(15)), c64(0));
    };
    int inner = kMajorOperand(load) ? 0 : 1, outer = 1 - inner;
    Value base = b.create<LLVM::PtrToIntOp>(loc, i64, desc.base);
    Value pitch = b.create<arith::MulIOp>(loc, desc.strides[outer], c64(2));
    Value usable = cmp(arith::CmpIPredicate::eq, desc.strides[inner], c64(1));
    for (Value c : {aligned16(base), aligned16(pitch),
                    cmp(arith::CmpIPredicate::slt, pitch, c64(int64_t(1) << 40)),
                    cmp(arith::CmpIPredicate::sge, desc.shape[0], c64(1)),
                    cmp(arith::CmpIPredicate::sge, desc.shape[1], c64(1)),
                    cmp(arith::CmpIPredicate::slt, desc.shape[0], c64(int64_t(1) << 32)),
                    cmp(arith::CmpIPredicate::slt, desc.shape[1], c64(int64_t(1) << 32))})
      usable = b.create<arith::AndIOp>(loc, usable, c);
    return usable;
  }

  /// Builds the tensor map of a load's descriptor for boxes of the load's rows x 64
  /// columns, in this program's slot of the global scratch (slot = map * programs +
  /// program): warp 0 zeroes a staging copy in shared memory, lane 0 sets every field
  /// (tensormap.replace), the warp copies it out with a release to the tensor-map proxy
  /// and acquires it back, so thread 0's TMA copies see it.
  TensorMap buildTensorMap(Location loc, LoadOp load) {
    const DescParts &desc = descs[load.getDesc()];
    Type i64 = b.getI64Type(), i32 = b.getI32Type();
    auto c64 = [&](int64_t v) { return intConst(b, loc, i64, v); };
    // The map's inner (contiguous) dimension: the view's columns, or its rows when the
    // tile is stored K-major (a column-major view).
    bool kMajor = kMajorOperand(load);
    int inner = kMajor ? 0 : 1, outer = 1 - inner;
    Value base = b.create<LLVM::PtrToIntOp>(loc, i64, desc.base);
    Value pitch = b.create<arith::MulIOp>(loc, desc.strides[outer], c64(2));
    Value usable = tmaUsable(loc, load);
    // Slot address.
    auto dim = [&](gpu::Dimension d, bool grid) -> Value {
      Value v = grid ? b.create<gpu::GridDimOp>(loc, d).getResult()
                     : b.create<gpu::BlockIdOp>(loc, d).getResult();
      return b.create<arith::IndexCastOp>(loc, i64, v);
    };
    Value gx = dim(gpu::Dimension::x, true), gy = dim(gpu::Dimension::y, true);
    Value programs =
        b.create<arith::MulIOp>(loc, b.create<arith::MulIOp>(loc, gx, gy), dim(gpu::Dimension::z, true));
    Value program = b.create<arith::AddIOp>(
        loc, dim(gpu::Dimension::x, false),
        b.create<arith::MulIOp>(
            loc, gx,
            b.create<arith::AddIOp>(loc, dim(gpu::Dimension::y, false),
                                    b.create<arith::MulIOp>(loc, gy, dim(gpu::Dimension::z, false)))));
    Value slot = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, c64(tensorMapCount++), programs), program);
    Value address = b.create<arith::AddIOp>(
        loc, b.create<LLVM::PtrToIntOp>(loc, i64, scratch(loc)),
        b.create<arith::MulIOp>(loc, slot, c64(kTensorMapBytes)));
    // Staging copy: persistent (128-byte aligned) so no other op's scratch overlaps.
    Value staging = persistentAlloc(loc, kTensorMapBytes, 128);
    RankedTensorType t = load.getType();
    int64_t elemType = t.getElementType().isBF16() ? 10 : 6; // PTX .elemtype codes
    Value warp0 = b.create<arith::AndIOp>(
        loc, usable, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, threadId, cst(loc, 32)));
    whenTrue(b, loc, warp0, [&](OpBuilder &bb, Location l) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      storeShared(b, l, staging, threadId, cst(l, 0)); // 32 lanes x 4 bytes
      Value map = b.create<arith::ExtUIOp>(l, i64, sharedAddress(l, staging));
      b.create<NVVM::SyncWarpOp>(l, cst(l, -1)); // convergent, unlike inline asm
      Value lane0 = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, threadId, cst(l, 0));
      whenTrue(b, l, lane0, [&](OpBuilder &bb2, Location l2) {
        OpBuilder::InsertionGuard guard2(b);
        b.setInsertionPoint(bb2.getInsertionBlock(), bb2.getInsertionPoint());
        auto trunc = [&](Value v) { return b.create<arith::TruncIOp>(l2, i32, v).getResult(); };
        std::string field = "tensormap.replace.tile.";
        std::string space = ".shared::cta.b1024";
        asmVoid(l2, field + "global_address" + space + ".b64 [$0], $1;", "l,l", {map, base});
        asmVoid(l2, field + "rank" + space + ".b32 [$0], 1;", "l", {map});
        asmVoid(l2, field + "box_dim" + space + ".b32 [$0], 0, 64;", "l", {map});
        asmVoid(l2, field + "box_dim" + space + ".b32 [$0], 1, " +
                        std::to_string(t.getDimSize(outer)) + ";",
                "l", {map});
        asmVoid(l2, field + "global_dim" + space + ".b32 [$0], 0, $1;", "l,r",
                {map, trunc(desc.shape[inner])});
        asmVoid(l2, field + "global_dim" + space + ".b32 [$0], 1, $1;", "l,r",
                {map, trunc(desc.shape[outer])});
        asmVoid(l2, field + "global_stride" + space + ".b64 [$0], 0, $1;", "l,l", {map, pitch});
        asmVoid(l2, field + "element_stride" + space + ".b32 [$0], 0, 1;", "l", {map});
        asmVoid(l2, field + "element_stride" + space + ".b32 [$0], 1, 1;", "l", {map});
        asmVoid(l2, field + "elemtype" + space + ".b32 [$0], " + std::to_string(elemType) + ";", "l",
                {map});
        asmVoid(l2, field + "interleave_layout" + space + ".b32 [$0], 0;", "l", {map});
        asmVoid(l2, field + "swizzle_mode" + space + ".b32 [$0], 3;", "l", {map}); // 128 bytes
        asmVoid(l2, field + "fill_mode" + space + ".b32 [$0], 0;", "l", {map});    // zeros
      });
      b.create<NVVM::SyncWarpOp>(l, cst(l, -1)); // convergent, unlike inline asm
      asmVoid(l, "tensormap.cp_fenceproxy.global.shared::cta.tensormap::generic.release.gpu."
                 "sync.aligned [$0], [$1], 128;",
              "l,l", {address, map});
      asmVoid(l, "fence.proxy.tensormap::generic.acquire.gpu [$0], 128;", "l", {address});
    });
    return {address, usable};
  }

  /// The stage-`stage` mbarrier of a pipelined loop (8 bytes each from `barriers`).
  Value stageBarrier(Location loc, Value barriers, Value stage) {
    Value p = b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), barriers,
                                    ValueRange{b.create<arith::MulIOp>(loc, stage, cst(loc, 8))});
    return sharedAddress(loc, p);
  }

  /// Thread 0 issues the TMA copies of one stage (each load: its 64-column blocks) and
  /// tells the stage's mbarrier how many bytes will land.
  void issueTma(Location loc, ArrayRef<LoadOp> loads, ArrayRef<SmallVector<Value>> offsets,
                ArrayRef<SharedTile> tiles, Value bar) {
    Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
    whenTrue(b, loc, first, [&](OpBuilder &bb, Location l) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      int64_t bytes = 0;
      for (LoadOp load : loads)
        bytes += tileBytes(load.getType());
      asmVoid(l, "mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], " + std::to_string(bytes) + ";",
              "r", {bar});
      for (auto [l0, offs, tile] : llvm::zip(loads, offsets, tiles)) {
        LoadOp load = l0;
        RankedTensorType t = load.getType();
        Value row = toI32(l, offs[0]), col = toI32(l, offs[1]);
        // Coordinates run inner dimension first; a K-major tile's inner one is its rows.
        if (tile.transposed)
          std::swap(row, col);
        for (int64_t j = 0; j < tile.cols / 64; ++j) {
          Value dst = b.create<LLVM::GEPOp>(
              l, sharedPtrType(), b.getI8Type(), tile.base,
              ArrayRef<LLVM::GEPArg>{(int32_t)(j * tile.rows * 64 * 2)});
          Value x = b.create<arith::AddIOp>(l, col, cst(l, 64 * j));
          asmVoid(l,
                  "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes "
                  "[$0], [$1, {$2, $3}], [$4];",
                  "r,l,r,r,r", {sharedAddress(l, dst), tensorMaps[load.getOperation()].address, x, row, bar});
        }
      }
    });
  }

  /// Sets up an mbarrier for `count` arrivals per phase.
  void initBarrier(Location loc, Value bar, Value count) {
    asmVoid(loc, "mbarrier.init.shared::cta.b64 [$0], $1;", "r,r", {bar, count});
  }
  void initBarrier(Location loc, Value bar, int64_t count) {
    asmVoid(loc, "mbarrier.init.shared::cta.b64 [$0], " + std::to_string(count) + ";", "r", {bar});
  }
  /// One arrival on an mbarrier (release: the thread's earlier writes go to its waiters).
  void arriveBarrier(Location loc, Value bar) {
    asmVoid(loc, "mbarrier.arrive.shared::cta.b64 _, [$0];", "r", {bar});
  }
  /// Waits for phase `parity` of an mbarrier.
  void waitBarrier(Location loc, Value bar, Value parity) {
    asmVoid(loc,
            "{\n.reg .pred p;\nLAB_WAIT:\nmbarrier.try_wait.parity.shared::cta.b64 p, [$0], $1;\n"
            "@!p bra.uni LAB_WAIT;\n}",
            "r,r", {bar, parity});
  }

  /// The kernel body as two sides of a branch (see warpSpecialized).
  LogicalResult lowerWarpSpecialized(FuncOp kernel) {
    Block &entry = kernel.getBody().front();
    Location loc = kernel.getLoc();
    if (failed(analyseWarpSpecialization(kernel)))
      return failure();
    SmallVector<LoadOp> first = wsLoads[wsLoops.front()];
    for (LoadOp load : first)
      wsBuffers.push_back(sharedTileFor(load.getType(),
                                        persistentAlloc(loc, stages * tileBytes(load.getType()), 1024),
                                        layouts.layoutOf(load).warpgroup, kMajorOperand(load)));
    // One full and one empty mbarrier per stage and load: a loop that overlaps
    // iterations frees one load's stage (K) an iteration before another's (V).
    int64_t pipelinedLoads = wsLoads[wsLoops.front()].size();
    fullBarriers = persistentAlloc(loc, 8 * stages * pipelinedLoads, 8);
    emptyBarriers = persistentAlloc(loc, 8 * stages * pipelinedLoads, 8);
    int64_t slots = 0;
    for (Value v : mailboxValues) {
      auto desc = dyn_cast<DescType>(v.getType());
      slots += desc ? 1 + 2 * desc.getRank() : 1;
    }
    mailbox = persistentAlloc(loc, 8 * std::max<int64_t>(1, slots), 8);
    // The two hand-offs (mailbox posted: consumer thread 0 arrives; stage mbarriers set
    // up: every producer thread arrives) complete on mbarriers set up before the block
    // splits: the sides reach them from different instructions, which an aligned block
    // barrier must not be, and racecheck models mbarrier arrive/wait but not a
    // barrier.sync met from two places.
    handOffBarriers = persistentAlloc(loc, 16, 8);
    Value leader = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
    whenTrue(b, loc, leader, [&](OpBuilder &bb, Location l) {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      initBarrier(l, stageBarrier(l, handOffBarriers, cst(l, 0)), 1);
      initBarrier(l, stageBarrier(l, handOffBarriers, cst(l, 1)), cst(l, kProducerThreads));
    });
    b.create<gpu::BarrierOp>(loc);
    Value tid = threadId;
    int64_t consumers = threads;
    Value producer = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, tid, cst(loc, consumers));
    auto sides = b.create<scf::IfOp>(loc, TypeRange{}, producer, /*withElseRegion=*/true);
    // The producer gives registers to the consumers (when they are short). ptxas
    // launches every thread with the launch bound's share; setmaxnreg.inc only takes
    // what setmaxnreg.dec gave back in this block, or it waits forever.
    bool moveRegisters = consumers + kProducerThreads > 256;
    int64_t consumerRegisters = ::kiln::schedule::consumerRegisters(consumers);
    using ::kiln::schedule::kProducerRegisters;
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(sides.thenBlock()->getTerminator());
      if (moveRegisters)
        asmVoid(loc, "setmaxnreg.dec.sync.aligned.u32 " + std::to_string(kProducerRegisters) + ";", "", {});
      threadId = b.create<arith::SubIOp>(loc, tid, cst(loc, consumers));
      threads = kProducerThreads;
      // The consumers computed what the copies need; take it from the mailbox.
      waitBarrier(loc, stageBarrier(loc, handOffBarriers, cst(loc, 0)), cst(loc, 0));
      readMailbox(loc);
      wsTmaOk = allTmaUsable(loc);
      for (scf::ForOp loop : wsLoops)
        for (LoadOp load : wsLoads[loop])
          tensorMaps[load] = buildTensorMap(loc, load);
      // Without TMA (a tensor it cannot address) all producer threads copy and arrive.
      Value fullCount = b.create<arith::SelectOp>(loc, wsTmaOk, cst(loc, 1), cst(loc, kProducerThreads));
      Value zero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
      whenTrue(b, loc, zero, [&](OpBuilder &bb, Location l) {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
        for (int64_t st = 0; st < stages * pipelinedLoads; ++st) {
          initBarrier(l, stageBarrier(l, fullBarriers, cst(l, st)), fullCount);
          initBarrier(l, stageBarrier(l, emptyBarriers, cst(l, st)), cst(l, consumers));
        }
      });
      // The stages' mbarriers are ready: the other producer threads (named barrier 2)
      // and the consumers (every producer thread arrives: no branch on thread 0 here)
      // may wait on them.
      namedBarrier(loc, 2, kProducerThreads);
      handOff(loc, 1);
      wsStage = cst(loc, 0);
      wsPhase = cst(loc, 0);
      for (scf::ForOp loop : wsLoops)
        produce(loop);
      threadId = tid;
      threads = consumers;
    }
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(sides.elseBlock()->getTerminator());
    consumerSide = true;
    if (moveRegisters)
      asmVoid(loc, "setmaxnreg.inc.sync.aligned.u32 " + std::to_string(consumerRegisters) + ";", "", {});
    wsStage = cst(loc, 0);
    wsPhase = cst(loc, 0);
    if (failed(lowerBlock(entry)))
      return failure();
    consumerSide = false;
    b.setInsertionPointAfter(sides);
    b.create<gpu::ReturnOp>(loc);
    return success();
  }

  /// Whether TMA can address every pipelined tensor (one decision for the pipeline).
  Value allTmaUsable(Location loc) {
    Value ok = b.create<arith::ConstantIntOp>(loc, 1, 1);
    for (scf::ForOp loop : wsLoops)
      for (LoadOp load : wsLoads[loop])
        ok = b.create<arith::AndIOp>(loc, ok, tmaUsable(loc, load));
    return ok;
  }

  /// Consumers, before their first pipelined loop: thread 0 posts the values the
  /// producer needs and arrives on the first hand-off mbarrier (release; the producer's
  /// wait acquires), then all wait on the second until the producer has set up the
  /// stages' mbarriers. The producer is there long before.
  LogicalResult postMailbox(Location loc) {
    Value zero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
    whenTrue(b, loc, zero, [&](OpBuilder &bb, Location l) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
      for (auto [slot, v] : mailboxParts(l))
        b.create<LLVM::StoreOp>(l, v, slot);
      handOff(l, 0);
    });
    // Loads only the pipelined loops read (attention's Q) copy while the producer sets
    // up the stages and issues the first ones.
    SmallVector<Operation *> deferred(deferredLoads.begin(), deferredLoads.end());
    llvm::sort(deferred, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
    deferredLoads.clear();
    for (Operation *op : deferred)
      if (failed(lowerOp(op)))
        return failure();
    waitBarrier(loc, stageBarrier(loc, handOffBarriers, cst(loc, 1)), cst(loc, 0));
    return success();
  }
  /// Arrives on hand-off `i` (0: mailbox posted, 1: stages set up).
  void handOff(Location loc, int64_t i) {
    arriveBarrier(loc, stageBarrier(loc, handOffBarriers, cst(loc, i)));
  }
  /// The producer's copy of the posted values.
  void readMailbox(Location loc) {
    int64_t at = 0;
    auto next = [&](Type t) {
      Value slot = b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), mailbox,
                                         ArrayRef<LLVM::GEPArg>{(int32_t)(8 * at++)});
      return b.create<LLVM::LoadOp>(loc, t, slot).getResult();
    };
    auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
    for (Value v : mailboxValues) {
      if (auto desc = dyn_cast<DescType>(v.getType())) {
        DescParts parts;
        parts.base = next(ptrType);
        for (int64_t d = 0; d < desc.getRank(); ++d)
          parts.shape.push_back(next(b.getI64Type()));
        for (int64_t d = 0; d < desc.getRank(); ++d)
          parts.strides.push_back(next(b.getI64Type()));
        descs[v] = parts;
      } else {
        scalars.map(v, next(registerType(v.getType())));
      }
    }
  }
  /// (slot, lowered value) for every posted value, in mailbox order.
  SmallVector<std::pair<Value, Value>> mailboxParts(Location loc) {
    SmallVector<std::pair<Value, Value>> parts;
    auto add = [&](Value v) {
      Value slot = b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), mailbox,
                                         ArrayRef<LLVM::GEPArg>{(int32_t)(8 * parts.size())});
      parts.push_back({slot, v});
    };
    for (Value v : mailboxValues) {
      if (isa<DescType>(v.getType())) {
        const DescParts &d = descs[v];
        add(d.base);
        for (Value x : d.shape)
          add(x);
        for (Value x : d.strides)
          add(x);
      } else {
        add(scalar(v));
      }
    }
    return parts;
  }

  /// Finds the loops the producer runs and the values it needs, or says why the kernel
  /// cannot be specialised.
  LogicalResult analyseWarpSpecialization(FuncOp kernel) {
    Block &entry = kernel.getBody().front();
    if (!target.nvidiaWgmma || !useTma)
      return kernel.emitError("warp_specialize needs sm_90a with TMA copies");
    if (cluster > 1)
      return kernel.emitError("warp_specialize and cluster cannot be combined yet");
    if (threads % 128 != 0)
      return kernel.emitError("warp_specialize needs whole warpgroups of consumers (num_threads "
                              "a multiple of 128), got ")
             << threads;
    // The producer's register hand-over (setmaxnreg) is sized for one program per SM.
    if (auto programs = kernel.getMinProgramsPerSm(); programs && *programs > 1)
      return kernel.emitError("warp_specialize runs one program per multiprocessor; "
                              "min_programs_per_sm = ")
             << *programs << " asks for more";
    SetVector<Value> roots;
    for (Operation &op : entry) {
      auto loop = dyn_cast<scf::ForOp>(&op);
      if (!loop)
        continue;
      SetVector<Operation *> slice;
      SmallVector<LoadOp> loads = pipelinableLoads(loop, slice, /*lowered=*/false);
      if (loads.empty())
        continue;
      for (LoadOp load : loads)
        if (!tmaEligible(load))
          return load.emitOpError("cannot be copied by TMA, which warp_specialize needs "
                                  "(16-bit warpgroup-MMA operands with zero padding)");
      if (!wsLoops.empty()) {
        SmallVector<LoadOp> first = wsLoads[wsLoops.front()];
        bool same = first.size() == loads.size();
        for (size_t i = 0; same && i < loads.size(); ++i)
          same = first[i].getType() == loads[i].getType() &&
                 layouts.layoutOf(first[i]) == layouts.layoutOf(loads[i]) &&
                 kMajorOperand(first[i]) == kMajorOperand(loads[i]);
        if (!same)
          return loop.emitOpError("pipelines other tiles than the kernel's first pipelined "
                                  "loop; warp_specialize shares one pipeline between loops");
      }
      wsLoops.push_back(loop);
      wsLoads[loop] = loads;
      wsSlices[loop] = slice;
      roots.insert(loop.getLowerBound());
      roots.insert(loop.getUpperBound());
      roots.insert(loop.getStep());
      for (LoadOp load : loads) {
        roots.insert(load.getDesc());
        for (Value v : load.getOffsets())
          if (v.getParentBlock() != loop.getBody())
            roots.insert(v);
      }
      for (Operation *op : slice)
        for (Value v : op->getOperands())
          if (v.getParentBlock() != loop.getBody())
            roots.insert(v);
    }
    if (wsLoops.empty())
      return kernel.emitError("warp_specialize: no top-level loop pipelines copies for "
                              "warpgroup MMAs, so a producer would have nothing to do");
    WalkResult nested = kernel.walk([&](scf::ForOp loop) {
      if (loop->getBlock() == &entry)
        return WalkResult::advance();
      SetVector<Operation *> slice;
      if (pipelinableLoads(loop, slice, false).empty())
        return WalkResult::advance();
      loop.emitOpError("pipelines copies inside another op; warp_specialize pipelines "
                       "top-level loops only");
      return WalkResult::interrupt();
    });
    if (nested.wasInterrupted())
      return failure();
    // The consumers post what the producer needs before their first pipelined loop:
    // it must be computed by then. Kernel parameters the producer has itself.
    Operation *firstLoop = wsLoops.front();
    for (Operation &op : entry) {
      if (&op == firstLoop)
        break;
      if (isa<LoadOp>(op) && llvm::all_of(op.getUsers(), [&](Operation *user) {
            Operation *top = entry.findAncestorOpInBlock(*user);
            return top && !top->isBeforeInBlock(firstLoop);
          }))
        deferredLoads.insert(&op);
    }
    for (Value v : roots) {
      Operation *def = v.getDefiningOp();
      if (!def)
        continue;
      if (def->getBlock() != &entry || !def->isBeforeInBlock(firstLoop))
        return def->emitOpError("feeds a pipelined loop's copies but comes after the first "
                                "pipelined loop; warp_specialize's producer needs it before");
      mailboxValues.push_back(v);
    }
    return success();
  }

  /// The producer's side of a pipelined loop: per iteration, wait until the stage is
  /// empty (the first round finds it so), then copy into it.
  void produce(scf::ForOp op) {
    Location loc = op.getLoc();
    auto loop = b.create<scf::ForOp>(loc, scalar(op.getLowerBound()), scalar(op.getUpperBound()),
                                     scalar(op.getStep()), ValueRange{wsStage, wsPhase});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value stage = loop.getRegionIterArgs()[0], phase = loop.getRegionIterArgs()[1];
    Value empty = b.create<arith::XOrIOp>(loc, phase, cst(loc, 1));
    for (auto [i, load] : llvm::enumerate(wsLoads[op])) {
      waitBarrier(loc, stageBarrier(loc, loadBarriers(loc, emptyBarriers, i), stage), empty);
      issueStage(op, {load}, wsSlices[op], {wsBuffers[i]}, loop.getInductionVar(), stage,
                 loadBarriers(loc, fullBarriers, i), wsTmaOk);
    }
    auto [next, nextPhase] = advanceStage(loc, stage, phase);
    b.create<scf::YieldOp>(loc, ValueRange{next, nextPhase});
    wsStage = loop.getResult(0);
    wsPhase = loop.getResult(1);
  }
  /// The stage after `stage` and its phase.
  std::pair<Value, Value> advanceStage(Location loc, Value stage, Value phase) {
    Value next = b.create<arith::AddIOp>(loc, stage, cst(loc, 1));
    Value wrap = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, next, cst(loc, stages));
    return {b.create<arith::SelectOp>(loc, wrap, cst(loc, 0), next),
            b.create<arith::XOrIOp>(loc, phase, b.create<arith::ExtUIOp>(loc, b.getI32Type(), wrap))};
  }
  Value previousStage(Location loc, Value stage) {
    Value zero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, stage, cst(loc, 0));
    return b.create<arith::SelectOp>(loc, zero, cst(loc, stages - 1),
                                     b.create<arith::SubIOp>(loc, stage, cst(loc, 1)));
  }
  /// The phase of the stage before `stage` (whose phase is `phase`).
  Value previousPhase(Location loc, Value stage, Value phase) {
    Value zero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, stage, cst(loc, 0));
    return b.create<arith::XOrIOp>(loc, phase, b.create<arith::ExtUIOp>(loc, b.getI32Type(), zero));
  }
  /// The full or empty mbarriers of the `load`-th pipelined load (one per stage).
  Value loadBarriers(Location loc, Value barriers, int64_t load) {
    return b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), barriers,
                                 ValueRange{cst(loc, 8 * stages * load)});
  }
  /// The indices of `loads` among the pipelined loads of `loop` (null: all).
  SmallVector<int64_t> loadIndices(scf::ForOp loop, ArrayRef<LoadOp> loads = {}) {
    SmallVector<int64_t> out;
    for (auto [i, load] : llvm::enumerate(wsLoads[loop]))
      if (loads.empty() || llvm::is_contained(loads, load))
        out.push_back(i);
    return out;
  }
  /// Waits until the copies of `loads` (indices) into `stage` have landed.
  void waitLoads(Location loc, ArrayRef<int64_t> loads, Value stage, Value phase) {
    for (int64_t i : loads)
      waitBarrier(loc, stageBarrier(loc, loadBarriers(loc, fullBarriers, i), stage), phase);
  }
  /// The consumers are done with `loads` (indices) in `stage` (every thread arrives).
  void releaseLoads(Location loc, ArrayRef<int64_t> loads, Value stage) {
    for (int64_t i : loads)
      arriveBarrier(loc, stageBarrier(loc, loadBarriers(loc, emptyBarriers, i), stage));
  }

  /// FlashAttention-3's intra-warpgroup overlap, for a loop with a producer: the loop's
  /// last dot (attention's P·V) and the elementwise and shape ops that only prepare its
  /// accumulator (the rescale) are the tail. Iteration j issues its first dot (S = Q·Kᵀ),
  /// then the tail of iteration j - 1 (the head values it reads carried over, its copied
  /// operand from the stage before), then the rest of its head, so the softmax runs while
  /// the tensor cores do the previous P·V. The tail may read the accumulator it updates,
  /// values of the head and pipelined loads nothing else reads; the head must not read
  /// that accumulator.
  struct OverlapPlan {
    DotOp first, tail;               ///< the first dot; the last (the tail's dot)
    SetVector<Operation *> ops;      ///< the tail's ops
    SetVector<Value> carried;        ///< head values the tail reads, one iteration later
    SmallVector<LoadOp> tailLoads;   ///< pipelined loads only the tail reads
    unsigned acc = 0;                ///< the loop-carried value the tail accumulates
  };
  std::optional<OverlapPlan> overlapPlan(scf::ForOp op) {
    if (!intraOverlap)
      return std::nullopt;
    Block *body = op.getBody();
    // A loop that makes tiles from its index (stream fusion's masked loops: the causal
    // diagonal, a ragged end) runs a block or two and holds its masks in registers:
    // overlap gains nothing there, and the carried values made ptxas spill.
    SmallVector<Value> index{op.getInductionVar()};
    while (!index.empty())
      for (Operation *user : index.pop_back_val().getUsers()) {
        if (isa<LoadOp>(user))
          continue;
        for (Value r : user->getResults()) {
          if (isa<RankedTensorType>(r.getType()))
            return std::nullopt;
          index.push_back(r);
        }
      }
    SmallVector<DotOp> dots;
    for (Operation &x : body->without_terminator()) {
      if (auto dot = dyn_cast<DotOp>(&x))
        dots.push_back(dot);
      else if (x.getNumRegions() != 0 && !isa<ReduceOp, ScanOp>(x))
        return std::nullopt;
    }
    if (dots.size() < 2)
      return std::nullopt;
    OverlapPlan plan;
    plan.first = dots.front();
    plan.tail = dots.back();
    std::optional<TileLayout> layout = layouts.dotLayout(plan.tail);
    if (!layout || !layout->warpgroup || !plan.tail->hasOneUse() ||
        !isa<scf::YieldOp>(*plan.tail->getUsers().begin()))
      return std::nullopt;
    plan.acc = plan.tail->getUses().begin()->getOperandNumber();
    BlockArgument accArg = op.getRegionIterArgs()[plan.acc];
    plan.ops.insert(plan.tail);
    // Users come after their operands: one backward sweep finds what only the tail reads.
    for (Operation &x : llvm::reverse(body->without_terminator())) {
      bool cheap = isa<BroadcastOp, ExpandDimsOp, SplatOp>(x) ||
                   (isa<arith::ArithDialect>(x.getDialect()) && !isa<CastOpInterface>(x));
      if (cheap && !x.use_empty() &&
          llvm::all_of(x.getUsers(), [&](Operation *u) { return plan.ops.contains(u); }))
        plan.ops.insert(&x);
    }
    bool readsAcc = false;
    for (Operation *t : plan.ops)
      for (Value v : t->getOperands()) {
        if (v == accArg) {
          readsAcc = true;
          continue;
        }
        if (auto arg = dyn_cast<BlockArgument>(v); arg && arg.getOwner() == body)
          return std::nullopt; // other loop state or the index: a different iteration's
        Operation *def = v.getDefiningOp();
        if (!def || def->getBlock() != body || plan.ops.contains(def))
          continue;
        if (auto load = dyn_cast<LoadOp>(def)) {
          if (!llvm::is_contained(wsLoads[op], load) ||
              !llvm::all_of(load->getUsers(), [&](Operation *u) { return plan.ops.contains(u); }))
            return std::nullopt;
          if (!llvm::is_contained(plan.tailLoads, load))
            plan.tailLoads.push_back(load);
          continue;
        }
        plan.carried.insert(v);
      }
    if (!readsAcc || plan.tailLoads.empty() ||
        llvm::any_of(accArg.getUsers(), [&](Operation *u) { return !plan.ops.contains(u); }))
      return std::nullopt;
    // Overlap keeps the first dot's result, the accumulator and the carried values live
    // at once. ptxas fit 162 such registers of a 224 budget without spilling (D128,
    // 128x128) and spilled at 178 (D256, 128x64, slower than in order): leave 56 for
    // the softmax's row state, addresses and descriptors.
    auto registers = [&](Value v) -> int64_t {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      if (!t)
        return 1;
      return llvm::divideCeil(perThread(distOf(v)) * t.getElementTypeBitWidth(), 32);
    };
    int64_t live = registers(accArg) + registers(plan.first.getResult());
    for (Value v : plan.carried)
      live += registers(v);
    if (live > ::kiln::schedule::consumerRegisters(threads) - 56)
      return std::nullopt;
    return plan;
  }

  /// A loop with a producer, lowered as overlapPlan says: the first iteration's head
  /// before the loop, the loop from the second iteration on, the last tail after it,
  /// all skipped when the loop does not run. Iteration j releases the stage of j - 1
  /// once that tail's MMAs are done.
  LogicalResult lowerOverlappedFor(scf::ForOp op, OverlapPlan plan) {
    Location loc = op.getLoc();
    Block *body = op.getBody();
    auto yield = cast<scf::YieldOp>(body->getTerminator());
    ValueRange iterArgs = op.getRegionIterArgs();
    SmallVector<Value> init = flatten(op.getInitArgs(), iterArgs);
    SmallVector<Value> skipped = init;
    int64_t stateRegs = init.size();
    int64_t accAt = 0, accCount = perThread(distOf(iterArgs[plan.acc]));
    for (Value v : iterArgs.take_front(plan.acc))
      accAt += isa<RankedTensorType>(v.getType()) ? perThread(distOf(v)) : 1;
    // An accumulator that starts at zero starts undefined, its MMAs told not to
    // accumulate until a first P·V has run (as lowerFor does).
    bool zeroStart = isZeroSplat(op.getInitArgs()[plan.acc]);
    if (zeroStart)
      for (int64_t i = 0; i < accCount; ++i)
        init[accAt + i] = b.create<LLVM::PoisonOp>(loc, init[accAt + i].getType());
    Value lb = scalar(op.getLowerBound()), ub = scalar(op.getUpperBound());
    Value step = scalar(op.getStep());
    SmallVector<Type> types;
    skipped.append({wsStage, wsPhase});
    for (Value v : skipped)
      types.push_back(v.getType());
    Value any = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, lb, ub);
    auto runs = b.create<scf::IfOp>(loc, types, any, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard outer(b);
    b.setInsertionPointToStart(&runs.getElseRegion().front());
    b.create<scf::YieldOp>(loc, skipped);
    b.setInsertionPointToStart(&runs.getThenRegion().front());
    auto saved = converted;
    SmallVector<int64_t> tailLoads = loadIndices(op, plan.tailLoads), headLoads;
    for (int64_t i : loadIndices(op))
      if (!llvm::is_contained(tailLoads, i))
        headLoads.push_back(i);
    // Waits for `loads` (indices) in `stage`, then maps the stage's tiles.
    auto waitStage = [&](ArrayRef<int64_t> loads, Value stage, Value phase) {
      waitLoads(loc, loads, stage, phase);
      fenceUnlessTma(loc, wsTmaOk);
      for (auto [load, buffer] : llvm::zip(wsLoads[op], wsBuffers))
        pipelined[load] = stageOf(buffer, stage, load.getType());
    };
    // Head ops that only the tail reads (P's conversion to 16 bits) wait until the
    // previous tail's MMAs are done: their registers may then be the ones those read,
    // and ptxas need not wait for the MMAs before the softmax to find room.
    SetVector<Operation *> late;
    for (Value v : plan.carried)
      if (Operation *def = v.getDefiningOp(); def && def->getBlock() == body &&
          llvm::all_of(def->getUsers(), [&](Operation *u) { return plan.ops.contains(u); }))
        late.insert(def);
    // Head ops before and up to the first dot, or after it (but the late ones), or the
    // late ones.
    enum Part { UpToFirst, Rest, Late };
    auto lowerHead = [&](Part part) -> LogicalResult {
      bool before = true;
      for (Operation &x : body->without_terminator()) {
        bool inPart = late.contains(&x) ? part == Late : (before ? part == UpToFirst : part == Rest);
        if (&x == plan.first.getOperation())
          before = false;
        if (inPart && !plan.ops.contains(&x) && failed(lowerOp(&x)))
          return failure();
      }
      return success();
    };
    auto lowerTail = [&](Value stage, Value phase, Value accumulate) -> LogicalResult {
      waitLoads(loc, tailLoads, stage, phase);
      for (int64_t i : tailLoads)
        sharedTiles[wsLoads[op][i]] = stageOf(wsBuffers[i], stage, wsLoads[op][i].getType());
      if (accumulate)
        wgmmaAccumulate[plan.tail] = accumulate;
      for (Operation &x : body->without_terminator())
        if (plan.ops.contains(&x) && failed(lowerOp(&x)))
          return failure();
      wgmmaAccumulate.erase(plan.tail);
      return success();
    };
    // What an iteration passes on: the head's loop state with the tail's accumulator
    // (`acc`), then the head values the next tail reads.
    auto passOn = [&](ArrayRef<Value> acc) {
      SmallVector<Value> out;
      for (auto [i, arg] : llvm::enumerate(iterArgs)) {
        if (i == plan.acc)
          llvm::append_range(out, acc);
        else
          llvm::append_range(out, flatten(yield.getOperand(i), arg));
      }
      llvm::append_range(out, flatten(plan.carried.getArrayRef(), plan.carried.getArrayRef()));
      return out;
    };
    SmallVector<Value> carriedValues(plan.carried.begin(), plan.carried.end());
    auto resume = [&](ValueRange flat) { // maps loop state and carried head values
      unflatten(iterArgs, flat.take_front(stateRegs));
      unflatten(carriedValues, flat.drop_front(stateRegs));
    };
    bool outerDefer = deferWgmmaWait;
    deferWgmmaWait = false;
    bool turns = takeTurns();
    auto turn = [&](DotOp start, DotOp end) {
      turnStart = turns ? start : DotOp();
      turnEnd = turns ? end : DotOp();
    };
    if (turns)
      turnEdge(loc, /*entering=*/true);
    // The first iteration's head.
    turn(plan.first, plan.first);
    scalars.map(op.getInductionVar(), lb);
    unflatten(iterArgs, init);
    waitStage(headLoads, wsStage, wsPhase);
    earlyRelease = EarlyRelease{plan.first.getResult(), wsStage, headLoads};
    if (failed(lowerHead(UpToFirst)) || failed(lowerHead(Rest)) || failed(lowerHead(Late)))
      return failure();
    beginOp();
    waitWgmma(loc);
    SmallVector<Value> loopInit =
        passOn(ArrayRef<Value>(init).slice(accAt, accCount));
    int64_t state = loopInit.size();
    auto [second, secondPhase] = advanceStage(loc, wsStage, wsPhase);
    loopInit.append({second, secondPhase});
    if (zeroStart)
      loopInit.push_back(b.create<arith::ConstantIntOp>(loc, 0, 1)); // a P·V has run
    converted = saved;
    turn(plan.first, plan.tail);
    auto loop = b.create<scf::ForOp>(loc, b.create<arith::AddIOp>(loc, lb, step), ub, step,
                                     loopInit);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(loop.getBody());
      ValueRange args = loop.getRegionIterArgs();
      scalars.map(op.getInductionVar(), loop.getInductionVar());
      resume(args.take_front(state));
      Value stage = args[state], phase = args[state + 1];
      waitStage(headLoads, stage, phase);
      Value previous = previousStage(loc, stage);
      earlyRelease = EarlyRelease{plan.first.getResult(), stage, headLoads};
      if (failed(lowerHead(UpToFirst)) ||
          failed(lowerTail(previous, previousPhase(loc, stage, phase),
                           zeroStart ? args[state + 2] : Value())) ||
          failed(lowerHead(Rest)))
        return failure();
      beginOp();
      // ptxas hoists the wait for the previous P·V to the row maximum's first shuffle,
      // ahead of the exponentials it should overlap; a CTA fence keeps it here.
      asmVoid(loc, "fence.acq_rel.cta;", "", {});
      waitWgmma(loc); // the previous iteration's P·V too
      releaseLoads(loc, tailLoads, previous);
      if (failed(lowerHead(Late)))
        return failure();
      SmallVector<Value> next = passOn(flatten(plan.tail.getResult(), iterArgs[plan.acc]));
      auto [nextStage, nextPhase] = advanceStage(loc, stage, phase);
      next.append({nextStage, nextPhase});
      if (zeroStart)
        next.push_back(b.create<arith::ConstantIntOp>(loc, 1, 1));
      b.create<scf::YieldOp>(loc, next);
      converted = saved;
    }
    // The last iteration's tail.
    ValueRange done = loop.getResults();
    resume(done.take_front(state));
    wsStage = done[state];
    wsPhase = done[state + 1];
    Value last = previousStage(loc, wsStage);
    turn(plan.tail, plan.tail);
    if (failed(lowerTail(last, previousPhase(loc, wsStage, wsPhase),
                         zeroStart ? done[state + 2] : Value())))
      return failure();
    beginOp();
    waitWgmma(loc);
    releaseLoads(loc, tailLoads, last);
    turn(DotOp(), DotOp());
    if (turns)
      turnEdge(loc, /*entering=*/false);
    SmallVector<Value> out(done.take_front(stateRegs));
    llvm::copy(flatten(plan.tail.getResult(), iterArgs[plan.acc]), out.begin() + accAt);
    out.append({wsStage, wsPhase});
    b.create<scf::YieldOp>(loc, out);
    converted = saved;
    deferWgmmaWait = outerDefer;
    for (LoadOp load : wsLoads[op])
      pipelined.erase(load);
    SmallVector<Value> results(runs.getResults());
    wsPhase = results.pop_back_val();
    wsStage = results.pop_back_val();
    b.setInsertionPointAfter(runs);
    unflatten(op.getResults(), results);
    return success();
  }

  LogicalResult lowerFor(scf::ForOp op) {
    Location loc = op.getLoc();
    finishClusterExchange(loc);
    for (Value v : op.getRegionIterArgs()) {
      if (failed(checkTile(op, v.getType())))
        return failure();
      if (isa<DescType>(v.getType()))
        return op.emitOpError("carrying a tensor descriptor is not supported by the GPU "
                              "lowering; make the descriptor inside or before the loop");
    }
    bool ws = consumerSide && llvm::is_contained(wsLoops, op);
    if (ws && op == wsLoops.front()) { // unconditionally, before any branch
      if (failed(postMailbox(loc)))
        return failure();
      wsTmaOk = allTmaUsable(loc);
    }
    if (ws)
      if (std::optional<OverlapPlan> plan = overlapPlan(op))
        return lowerOverlappedFor(op, *plan);
    // Software pipeline: copies for iteration i + ahead are issued while iteration i
    // computes; each iteration waits for its own stage, then a barrier publishes it and
    // frees the stage the copies refill. With ldmatrix dots that stage is the one the
    // previous iteration read (ahead = stages - 1). Warpgroup MMAs of an accumulator
    // that only the loop carries stay in flight into the next iteration (wait for all
    // but the newest group), so the refilled stage is the one read two iterations back
    // (ahead = stages - 2).
    SetVector<Operation *> slice;
    SmallVector<LoadOp> ahead = pipelinableLoads(op, slice);
    // With a producer warpgroup the consumers only wait for stages and release them.
    if (ws)
      ahead = wsLoads[op];
    int64_t arenaMark = persistentBytes;
    SmallVector<SharedTile> buffers;
    bool overlapMma = !ahead.empty() && stages >= 3 && carriedWgmmaOnly(op);
    int64_t distance = overlapMma ? stages - 2 : stages - 1;
    Value lb = scalar(op.getLowerBound()), step = scalar(op.getStep());
    Type ivType = lb.getType();
    auto ivConst = [&](int64_t v) { return intConst(b, loc, ivType, v); };
    SmallVector<Value> init = flatten(op.getInitArgs(), op.getRegionIterArgs());
    // Warpgroup-MMA accumulators that start at zero start undefined instead, with the
    // MMAs told not to accumulate until the first iteration has run.
    SmallVector<std::pair<int64_t, int64_t>> zeroed; // register ranges in `init`
    SmallVector<DotOp> zeroedDots;
    if (overlapMma) {
      int64_t at = 0;
      for (auto [arg, initValue] : llvm::zip(op.getRegionIterArgs(), op.getInitArgs())) {
        int64_t count = isa<RankedTensorType>(arg.getType()) ? perThread(distOf(arg)) : 1;
        auto dot = arg.hasOneUse() ? dyn_cast<DotOp>(*arg.getUsers().begin()) : DotOp();
        if (dot && dot.getAcc() == arg && isZeroSplat(initValue)) {
          zeroed.push_back({at, count});
          zeroedDots.push_back(dot);
          for (int64_t i = 0; i < count; ++i)
            init[at + i] = b.create<LLVM::PoisonOp>(loc, init[at + i].getType());
        }
        at += count;
      }
    }
    // The zero start must not pass through the MMAs' registers on the way out of a loop
    // that never runs: that path skips the loop in a branch of its own.
    OpBuilder::InsertionGuard outer(b);
    scf::IfOp runs;
    if (!zeroed.empty()) {
      SmallVector<Type> types;
      for (Value v : init)
        types.push_back(v.getType());
      SmallVector<Value> skipped = flatten(op.getInitArgs(), op.getRegionIterArgs());
      if (ws) { // the pipeline state passes through too
        types.append(2, b.getI32Type());
        skipped.append({wsStage, wsPhase});
      }
      Value any = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, lb,
                                          scalar(op.getUpperBound()));
      runs = b.create<scf::IfOp>(loc, types, any, /*withElseRegion=*/true);
      b.setInsertionPointToStart(&runs.getElseRegion().front());
      b.create<scf::YieldOp>(loc, skipped);
      b.setInsertionPointToStart(&runs.getThenRegion().front());
    }
    // On sm_90a warpgroup-MMA operands come by TMA: one thread issues each stage's
    // copies, which complete on the stage's mbarrier (phase flipping at each reuse).
    // Where TMA cannot address a tensor (decided at run time), every thread copies by
    // cp.async and arrives on the same mbarrier when its copies land.
    if (ws)
      buffers.assign(wsBuffers.begin(), wsBuffers.end());
    else if (!ahead.empty())
      for (LoadOp load : ahead)
        buffers.push_back(sharedTileFor(load.getType(),
                                        sharedAlloc(loc, stages * tileBytes(load.getType()), true),
                                        layouts.layoutOf(load).warpgroup, kMajorOperand(load)));
    Value barriers, tmaOk;
    if (ws) {
      barriers = fullBarriers;
      tmaOk = wsTmaOk;
    } else if (!ahead.empty() && llvm::all_of(ahead, [&](LoadOp l) { return tmaEligible(l); })) {
      tmaOk = b.create<arith::ConstantIntOp>(loc, 1, 1);
      for (LoadOp load : ahead) {
        tensorMaps[load] = buildTensorMap(loc, load);
        tmaOk = b.create<arith::AndIOp>(loc, tmaOk, tensorMaps[load].usable);
      }
      barriers = persistentAlloc(loc, 8 * stages, 8);
      Value count = b.create<arith::SelectOp>(loc, tmaOk, cst(loc, 1), cst(loc, threads));
      Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
      whenTrue(b, loc, first, [&](OpBuilder &bb, Location l) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
        for (int64_t s = 0; s < stages; ++s)
          initBarrier(l, stageBarrier(l, barriers, cst(l, s)), count);
      });
    }
    if (!ahead.empty() && !ws) {
      syncThreads(loc); // earlier readers of reused stages are done
      for (int64_t s = 0; s < distance; ++s) {
        Value iv = b.create<arith::AddIOp>(loc, lb, b.create<arith::MulIOp>(loc, step, ivConst(s)));
        issueStage(op, ahead, slice, buffers, iv, cst(loc, s), barriers, tmaOk);
      }
    }
    int64_t extras = 0;
    if (!ahead.empty()) {
      init.push_back(ws ? wsStage : cst(loc, 0)); // the stage this iteration reads
      ++extras;
    }
    if (barriers) {
      init.push_back(ws ? wsPhase : cst(loc, 0)); // the phase of its mbarrier
      ++extras;
    }
    int64_t accumulateAt = init.size();
    if (!zeroed.empty()) {
      init.push_back(b.create<arith::ConstantIntOp>(loc, 0, 1)); // accumulate yet?
      ++extras;
    }
    auto loop = b.create<scf::ForOp>(loc, lb, scalar(op.getUpperBound()), step, init);
    Block *body = loop.getBody();
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(body);
    scalars.map(op.getInductionVar(), loop.getInductionVar());
    unflatten(op.getRegionIterArgs(), loop.getRegionIterArgs().drop_back(extras));
    auto saved = converted;
    Value readStage, phase;
    if (!ahead.empty()) {
      readStage = loop.getRegionIterArgs()[init.size() - extras];
      if (barriers) {
        phase = loop.getRegionIterArgs()[init.size() - extras + 1];
        if (ws)
          waitLoads(loc, loadIndices(op), readStage, phase);
        else
          waitBarrier(loc, stageBarrier(loc, barriers, readStage), phase);
        fenceUnlessTma(loc, tmaOk);
      } else {
        b.create<NVVM::CpAsyncWaitGroupOp>(loc, distance - 1);
        if (llvm::any_of(ahead, [&](LoadOp l) { return layouts.layoutOf(l).warpgroup; }))
          fenceForAsyncProxy(loc);
      }
      if (!ws) {
        syncThreads(loc);
        Value next = b.create<arith::AddIOp>(
            loc, loop.getInductionVar(), b.create<arith::MulIOp>(loc, step, ivConst(distance)));
        Value sum = b.create<arith::AddIOp>(loc, readStage, cst(loc, distance));
        Value wraps = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, sum, cst(loc, stages));
        Value writeStage = b.create<arith::SelectOp>(
            loc, wraps, b.create<arith::SubIOp>(loc, sum, cst(loc, stages)), sum);
        issueStage(op, ahead, slice, buffers, next, writeStage, barriers, tmaOk);
      }
      for (auto [load, buffer] : llvm::zip(ahead, buffers))
        pipelined[load] = stageOf(buffer, readStage, load.getType());
    }
    for (DotOp dot : zeroedDots)
      wgmmaAccumulate[dot] = loop.getRegionIterArgs()[accumulateAt];
    bool outerDefer = deferWgmmaWait;
    deferWgmmaWait = overlapMma;
    for (Operation &inner : op.getBody()->without_terminator())
      if (failed(lowerOp(&inner)))
        return failure();
    deferWgmmaWait = outerDefer;
    beginOp();
    waitWgmma(loc);
    auto yield = cast<scf::YieldOp>(op.getBody()->getTerminator());
    SmallVector<Value> yielded = flatten(yield.getOperands(), op.getRegionIterArgs());
    if (ws) {
      // This iteration's MMAs are done, or (left in flight) the previous one's.
      if (!overlapMma) {
        releaseLoads(loc, loadIndices(op), readStage);
      } else {
        Value later = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne,
                                              loop.getInductionVar(), lb);
        Value prev = previousStage(loc, readStage);
        whenTrue(b, loc, later, [&](OpBuilder &bb, Location l) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
          releaseLoads(l, loadIndices(op), prev);
        });
      }
    }
    if (!ahead.empty()) {
      auto [next, nextPhase] = advanceStage(loc, readStage, phase ? phase : cst(loc, 0));
      yielded.push_back(next);
      if (barriers)
        yielded.push_back(nextPhase);
    }
    if (!zeroed.empty())
      yielded.push_back(b.create<arith::ConstantIntOp>(loc, 1, 1));
    converted = saved;
    if (body->mightHaveTerminator())
      body->getTerminator()->erase();
    b.setInsertionPointToEnd(body);
    b.create<scf::YieldOp>(loc, yielded);
    b.setInsertionPointAfter(loop);
    if (overlapMma)
      b.create<NVVM::WgmmaWaitGroupSyncOp>(loc, 0); // the last iteration's MMAs
    if (ws) {
      Value endStage = loop.getResults()[init.size() - extras];
      Value endPhase = loop.getResults()[init.size() - extras + 1];
      if (overlapMma) {
        Value ran = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, lb,
                                            scalar(op.getUpperBound()));
        Value last = previousStage(loc, endStage);
        whenTrue(b, loc, ran, [&](OpBuilder &bb, Location l) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
          releaseLoads(l, loadIndices(op), last);
        });
      }
      for (LoadOp load : ahead)
        pipelined.erase(load);
      wsStage = endStage;
      wsPhase = endPhase;
    } else if (!ahead.empty()) {
      // Copies past the end were never issued; drain the (empty) groups and let every
      // thread finish reading before the stages are reused.
      b.create<NVVM::CpAsyncWaitGroupOp>(loc, 0);
      syncThreads(loc);
      for (LoadOp load : ahead) {
        pipelined.erase(load);
        tensorMaps.erase(load);
      }
      // The stages, their mbarriers (invalidated first, as PTX requires before their
      // memory is reused) and the tensor-map staging are free for later loops; the
      // next user's prologue barrier orders its writes after this.
      if (barriers) {
        Value first =
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, threadId, cst(loc, 0));
        whenTrue(b, loc, first, [&](OpBuilder &bb, Location l) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
          for (int64_t s = 0; s < stages; ++s)
            asmVoid(l, "mbarrier.inval.shared::cta.b64 [$0];", "r",
                    {stageBarrier(l, barriers, cst(l, s))});
        });
      }
      persistentBytes = arenaMark;
    }
    SmallVector<Value> results(loop.getResults().drop_back(extras));
    if (runs) {
      SmallVector<Value> out = results;
      if (ws)
        out.append({wsStage, wsPhase});
      b.create<scf::YieldOp>(loc, out);
      results.assign(runs.getResults().begin(), runs.getResults().end());
      if (ws) {
        wsPhase = results.pop_back_val();
        wsStage = results.pop_back_val();
      }
      b.setInsertionPointAfter(runs);
    }
    unflatten(op.getResults(), results);
    for (DotOp dot : zeroedDots)
      wgmmaAccumulate.erase(dot);
    return success();
  }

  /// Whether `v` is a tile splat of the number zero.
  bool isZeroSplat(Value v) {
    auto it = splatScalars.find(v);
    if (it == splatScalars.end())
      return false;
    auto constant = it->second.getDefiningOp<arith::ConstantOp>();
    auto f = constant ? dyn_cast<FloatAttr>(constant.getValue()) : FloatAttr();
    return f && f.getValue().isPosZero();
  }

  LogicalResult lowerIf(scf::IfOp op) {
    Location loc = op.getLoc();
    finishClusterExchange(loc);
    SmallVector<Type> types;
    for (Value r : op.getResults()) {
      if (failed(checkTile(op, r.getType())))
        return failure();
      if (isa<DescType>(r.getType()))
        return op.emitOpError("yielding a tensor descriptor is not supported by the GPU "
                              "lowering; make the descriptor before the branch");
      if (auto t = dyn_cast<RankedTensorType>(r.getType()))
        types.append(perThread(distOf(r)), registerType(t.getElementType()));
      else
        types.push_back(registerType(r.getType()));
    }
    auto newIf = b.create<scf::IfOp>(loc, types, scalar(op.getCondition()),
                                     /*withElseRegion=*/!op.getElseRegion().empty());
    auto lowerRegion = [&](Region &from, Region &to) -> LogicalResult {
      if (from.empty())
        return success();
      OpBuilder::InsertionGuard guard(b);
      auto saved = converted;
      Block *block = &to.front();
      if (block->mightHaveTerminator())
        block->getTerminator()->erase();
      b.setInsertionPointToEnd(block);
      for (Operation &inner : from.front().without_terminator())
        if (failed(lowerOp(&inner)))
          return failure();
      beginOp();
      waitWgmma(loc);
      auto yield = cast<scf::YieldOp>(from.front().getTerminator());
      b.create<scf::YieldOp>(loc, flatten(yield.getOperands(), op.getResults()));
      converted = saved;
      return success();
    };
    if (failed(lowerRegion(op.getThenRegion(), newIf.getThenRegion())) ||
        failed(lowerRegion(op.getElseRegion(), newIf.getElseRegion())))
      return failure();
    b.setInsertionPointAfter(newIf);
    unflatten(op.getResults(), newIf.getResults());
    return success();
  }
};

} // namespace

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
