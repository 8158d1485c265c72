//===- TensorMaps.cpp - TMA tensor maps and bulk copies, mbarriers -----------------===//
#include "passes/GPU/KernelLowering.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

using namespace mlir;
using namespace mlir::kiln;

namespace mlir::kiln::lowering {

/// Inline PTX with one result (`result` null: none).
Value KernelLowering::inlineAsm(Location loc, Type result, StringRef text, StringRef constraints, ValueRange operands, bool sideEffects) {
  auto op = b.create<LLVM::InlineAsmOp>(
      loc, result ? TypeRange{result} : TypeRange{}, operands, text, constraints, sideEffects,
      /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT), ArrayAttr());
  return result ? op.getResult(0) : Value();
}

void KernelLowering::asmVoid(Location loc, StringRef text, StringRef constraints, ValueRange operands) {
  inlineAsm(loc, Type(), text, constraints, operands);
}

Value KernelLowering::sharedAddress(Location loc, Value p) {
  return b.create<LLVM::PtrToIntOp>(loc, b.getI32Type(), p);
}

/// Whether a pipelined shared load can be copied by TMA: a warpgroup-MMA operand
/// (128-byte swizzled 64-column blocks, exactly TMA's 128-byte swizzle) of 16-bit
/// elements, zero padding (TMA fills with zeros), at most 256 rows (one box).
bool KernelLowering::tmaEligible(LoadOp load) {
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
Value KernelLowering::scratch(Location loc) {
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
Value KernelLowering::tmaUsable(Location loc, LoadOp load) {
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
TensorMap KernelLowering::buildTensorMap(Location loc, LoadOp load) {
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
Value KernelLowering::stageBarrier(Location loc, Value barriers, Value stage) {
  Value p = b.create<LLVM::GEPOp>(loc, sharedPtrType(), b.getI8Type(), barriers,
                                  ValueRange{b.create<arith::MulIOp>(loc, stage, cst(loc, 8))});
  return sharedAddress(loc, p);
}

/// Thread 0 issues the TMA copies of one stage (each load: its 64-column blocks) and
/// tells the stage's mbarrier how many bytes will land.
void KernelLowering::issueTma(Location loc, ArrayRef<LoadOp> loads, ArrayRef<SmallVector<Value>> offsets,
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
void KernelLowering::initBarrier(Location loc, Value bar, Value count) {
  asmVoid(loc, "mbarrier.init.shared::cta.b64 [$0], $1;", "r,r", {bar, count});
}

void KernelLowering::initBarrier(Location loc, Value bar, int64_t count) {
  asmVoid(loc, "mbarrier.init.shared::cta.b64 [$0], " + std::to_string(count) + ";", "r", {bar});
}

/// One arrival on an mbarrier (release: the thread's earlier writes go to its waiters).
void KernelLowering::arriveBarrier(Location loc, Value bar) {
  asmVoid(loc, "mbarrier.arrive.shared::cta.b64 _, [$0];", "r", {bar});
}

/// Waits for phase `parity` of an mbarrier.
void KernelLowering::waitBarrier(Location loc, Value bar, Value parity) {
  asmVoid(loc,
          "{\n.reg .pred p;\nLAB_WAIT:\nmbarrier.try_wait.parity.shared::cta.b64 p, [$0], $1;\n"
          "@!p bra.uni LAB_WAIT;\n}",
          "r,r", {bar, parity});
}

} // namespace mlir::kiln::lowering
