//===- Dot.cpp - kiln.dot on the matrix units: mma.sync, wgmma, MFMA/WMMA, DPAS ----===//
#include "passes/GPU/KernelLowering.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/Dialect/LLVMIR/XeVMDialect.h"

#define DEBUG_TYPE "kiln-lower-to-gpu"

using namespace mlir;
using namespace mlir::kiln;

namespace mlir::kiln::lowering {

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

/// ldmatrix.x4 of the 16x16 block at (varRow + constRow, varCol + constCol) of `s`
/// (variable parts multiples of 16 within the masks); `transpose` for B (K x N stored
/// row-major). Lane l gives the address of row l % 8 of matrix l / 8; matrix q sits
/// at rows 8 * (q % 2), columns 8 * (q / 2).
SmallVector<Value> KernelLowering::ldmatrix(Location loc, const SharedTile &s, Value varRow, int64_t rowMask,
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
LogicalResult KernelLowering::lowerDotMMA(DotOp op, const TileLayout &layout) {
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
Value KernelLowering::wgmmaDescriptor(Location loc, Value start, int64_t leadingBytes) {
  Value addr = b.create<LLVM::PtrToIntOp>(loc, b.getI32Type(), start);
  Value field = b.create<arith::ShRUIOp>(
      loc, b.create<arith::AndIOp>(loc, addr, cst(loc, 0x3FFFF)), cst(loc, 4));
  return b.create<arith::OrIOp>(loc, field, cst(loc, (leadingBytes >> 4) << 16));
}

/// The descriptor's high word: the stride and the 128-byte swizzle mode.
int64_t KernelLowering::wgmmaDescriptorHigh(int64_t strideBytes) {
  return (strideBytes >> 4) | (int64_t(1) << 30);
}

/// Whether `op`'s A operand feeds the MMAs from registers: the m64nNk16 C fragments of
/// two adjacent 8-column chunks are exactly the A fragment of a 16-wide K step.
bool KernelLowering::wgmmaAInRegisters(DotOp op, const TileLayout &layout) {
  TileLayout la = layouts.layoutOf(op.getA());
  return !splatScalars.count(op.getA()) && la.kind == TileLayoutKind::MmaAccumulator &&
         la.warpgroup && la.warpsM == layout.warpsM && la.atom == 0;
}

/// A's accumulator-layout registers as the MMAs' A fragments: per K step of 16, four
/// b32 pairs (chunks kk / 8 and kk / 8 + 1 of this thread's rows g and g + 8).
SmallVector<Value> KernelLowering::packWgmmaA(Location loc, ArrayRef<Value> a, int64_t K) {
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

KernelLowering::WgmmaOperands KernelLowering::wgmmaOperands(DotOp op, const TileLayout &layout) {
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
LogicalResult KernelLowering::lowerDotWgmma(DotOp op, const TileLayout &layout) {
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

/// Issues `op`'s MMAs on `in` into `accIn` and commits them as one group; returns the
/// result registers (not yet valid). `accumulate` (i1, null: true) is scale-d.
SmallVector<Value> KernelLowering::issueWgmma(DotOp op, const WgmmaOperands &in, ArrayRef<Value> accIn,
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
void KernelLowering::waitWgmma(Location loc, Value v) {
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
void KernelLowering::waitWgmmaFor(Operation *op) {
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
LogicalResult KernelLowering::lowerBlockIOLoad(LoadOp op) {
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

Value KernelLowering::toI32(Location loc, Value v) {
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
LogicalResult KernelLowering::lowerDotAtom(DotOp op, const TileLayout &layout) {
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

LogicalResult KernelLowering::lowerDot(DotOp op) {
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

} // namespace mlir::kiln::lowering
