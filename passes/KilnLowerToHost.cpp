//===- KilnLowerToHost.cpp - tile IR to tensor/linalg/scf/LLVM for the CPU -===//
//
// The host target runs each program instance as ordinary CPU code; the grid is run by
// the host runtime's thread pool through the entry point this pass generates. Tiles
// stay tensors here so the upstream bufferization and linalg lowering do the rest.
//
#include "dialects/Kiln/KilnDialect.h"
#include "passes/ElementLowering.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"

#define DEBUG_TYPE "kiln-lower-to-host"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNLOWERTOHOST
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {
/// Atomic read-modify-write as a call to `__kiln_atomic_<op>_<type>`, which
/// kiln-expand-host-atomics turns into `llvm.atomicrmw` after bufferization (the
/// buffer deallocation passes reject ops whose memory effects they cannot see).
std::string atomicHelperName(LLVM::AtomicBinOp op, Type type) {
  std::string typeName;
  llvm::raw_string_ostream os(typeName);
  type.print(os);
  return ("__kiln_atomic_" + LLVM::stringifyAtomicBinOp(op) + "_" + typeName).str();
}

/// Declares the helper for `op` on `type` once per module (before conversion: regions
/// under construction have no module to reach).
void declareAtomicHelper(ModuleOp module, LLVM::AtomicBinOp op, Type type) {
  std::string name = atomicHelperName(op, type);
  if (module.lookupSymbol(name))
    return;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto ptr = LLVM::LLVMPointerType::get(module.getContext());
  auto decl = b.create<func::FuncOp>(module.getLoc(), name, b.getFunctionType({ptr, type}, {type}));
  decl.setPrivate();
}

Value emitAtomic(OpBuilder &b, Location loc, LLVM::AtomicBinOp op, Value ptr, Value val) {
  Type type = val.getType();
  return b.create<func::CallOp>(loc, atomicHelperName(op, type), TypeRange{type},
                                ValueRange{ptr, val})
      .getResult(0);
}

/// Builds a loop nest over every coordinate of `shape`, carrying `init`; `body` gets the
/// coordinates and the carried values and returns the new ones.
SmallVector<Value> forEachElement(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape, ValueRange init,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange, ValueRange)> body) {
  SmallVector<Value> ivs;
  std::function<SmallVector<Value>(OpBuilder &, size_t, ValueRange)> build =
      [&](OpBuilder &bb, size_t d, ValueRange carried) -> SmallVector<Value> {
    if (d == shape.size())
      return body(bb, loc, ivs, carried);
    Value lb = bb.create<arith::ConstantIndexOp>(loc, 0);
    Value ub = bb.create<arith::ConstantIndexOp>(loc, shape[d]);
    Value step = bb.create<arith::ConstantIndexOp>(loc, 1);
    auto loop = bb.create<scf::ForOp>(
        loc, lb, ub, step, carried, [&](OpBuilder &inner, Location l, Value iv, ValueRange args) {
          ivs.push_back(iv);
          SmallVector<Value> next = build(inner, d + 1, args);
          ivs.pop_back();
          inner.create<scf::YieldOp>(l, next);
        });
    return SmallVector<Value>(loop.getResults());
  };
  return build(b, 0, init);
}

/// A tile whose element at `ivs` is `body(ivs)`.
Value generateTile(OpBuilder &b, Location loc, RankedTensorType type,
                   function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  return b.create<tensor::GenerateOp>(loc, type, ValueRange{},
                                      [&](OpBuilder &bb, Location l, ValueRange ivs) {
                                        bb.create<tensor::YieldOp>(l, body(bb, l, ivs));
                                      });
}

Value maskedOr(OpBuilder &b, Location loc, Value mask, ValueRange ivs,
               function_ref<Value(OpBuilder &, Location)> then,
               function_ref<Value(OpBuilder &, Location)> otherwise) {
  Value cond = mask ? b.create<tensor::ExtractOp>(loc, mask, ivs) : Value();
  return branchValue(b, loc, cond, then, otherwise);
}


//===----------------------------------------------------------------------===//
// Conversion patterns, one per kiln op
//===----------------------------------------------------------------------===//

template <typename Op>
struct HostPattern : OpConversionPattern<Op> {
  using OpConversionPattern<Op>::OpConversionPattern;
  using OpAdaptor = typename Op::Adaptor;
};

struct IotaLowering : HostPattern<IotaOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(IotaOp op, OpAdaptor, ConversionPatternRewriter &r) const override {
    Type elem = op.getType().getElementType();
    r.replaceOp(op, generateTile(r, op.getLoc(), op.getType(),
                                 [&](OpBuilder &b, Location l, ValueRange ivs) -> Value {
                                   return b.create<arith::IndexCastOp>(l, elem, ivs[0]);
                                 }));
    return success();
  }
};

struct SplatLowering : HostPattern<SplatOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(SplatOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    Value input = a.getInput();
    // Tiles of pointers hold i64 addresses on the host.
    if (isa<LLVM::LLVMPointerType>(input.getType()))
      input = r.create<LLVM::PtrToIntOp>(op.getLoc(), r.getI64Type(), input);
    r.replaceOpWithNewOp<tensor::SplatOp>(op, input, op.getType().getShape());
    return success();
  }
};

struct BroadcastLowering : HostPattern<BroadcastOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(BroadcastOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    auto in = op.getInput().getType();
    auto out = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    Location loc = op.getLoc();
    SmallVector<AffineExpr> exprs;
    for (int64_t d = 0; d < in.getRank(); ++d)
      exprs.push_back(in.getDimSize(d) == 1 && out.getDimSize(d) != 1
                          ? r.getAffineConstantExpr(0)
                          : r.getAffineDimExpr(d));
    auto inMap = AffineMap::get(out.getRank(), 0, exprs, r.getContext());
    auto outMap = r.getMultiDimIdentityMap(out.getRank());
    Value init = r.create<tensor::EmptyOp>(loc, out.getShape(), out.getElementType());
    SmallVector<utils::IteratorType> iters(out.getRank(), utils::IteratorType::parallel);
    auto generic = r.create<linalg::GenericOp>(
        loc, TypeRange{out}, ValueRange{a.getInput()}, ValueRange{init},
        ArrayRef<AffineMap>{inMap, outMap}, iters,
        [](OpBuilder &b, Location l, ValueRange args) { b.create<linalg::YieldOp>(l, args[0]); });
    r.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// Reshape in row-major order: collapse to 1-D, then expand to the target shape.
Value reshapeTile(OpBuilder &b, Location loc, Value in, RankedTensorType out) {
  auto inType = cast<RankedTensorType>(in.getType());
  if (inType == out)
    return in;
  Value flat = in;
  if (inType.getRank() != 1) {
    ReassociationIndices all;
    for (int64_t d = 0; d < inType.getRank(); ++d)
      all.push_back(d);
    flat = b.create<tensor::CollapseShapeOp>(loc, in, ArrayRef<ReassociationIndices>{all});
  }
  if (out.getRank() == 1)
    return flat;
  ReassociationIndices all;
  for (int64_t d = 0; d < out.getRank(); ++d)
    all.push_back(d);
  return b.create<tensor::ExpandShapeOp>(loc, out, flat, ArrayRef<ReassociationIndices>{all});
}

template <typename Op>
struct ReshapeLikeLowering : HostPattern<Op> {
  using HostPattern<Op>::HostPattern;
  LogicalResult matchAndRewrite(Op op, typename Op::Adaptor a,
                                ConversionPatternRewriter &r) const override {
    auto out = cast<RankedTensorType>(this->getTypeConverter()->convertType(op.getType()));
    r.replaceOp(op, reshapeTile(r, op.getLoc(), a.getInput(), out));
    return success();
  }
};

struct TransposeLowering : HostPattern<TransposeOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(TransposeOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    auto out = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    Value init = r.create<tensor::EmptyOp>(op.getLoc(), out.getShape(), out.getElementType());
    SmallVector<int64_t> perm(op.getOrder().begin(), op.getOrder().end());
    auto t = r.create<linalg::TransposeOp>(op.getLoc(), a.getInput(), init,
                                           r.getDenseI64ArrayAttr(perm));
    r.replaceOp(op, t->getResult(0));
    return success();
  }
};

struct CastLowering : HostPattern<CastOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(CastOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    Type to = elementOf(op.getType());
    r.replaceOp(op, castElements(r, op.getLoc(), a.getInput(), to, op.getIsUnsigned()));
    return success();
  }
};

struct MakeDescLowering : HostPattern<MakeDescOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(MakeDescOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    Location loc = op.getLoc();
    Type structType = getTypeConverter()->convertType(op.getType());
    Value desc = r.create<LLVM::UndefOp>(loc, structType);
    desc = r.create<LLVM::InsertValueOp>(loc, desc, a.getBase(), ArrayRef<int64_t>{0});
    for (auto [d, v] : llvm::enumerate(a.getShape()))
      desc = r.create<LLVM::InsertValueOp>(loc, desc, v, ArrayRef<int64_t>{1, (int64_t)d});
    for (auto [d, v] : llvm::enumerate(a.getStrides()))
      desc = r.create<LLVM::InsertValueOp>(loc, desc, v, ArrayRef<int64_t>{2, (int64_t)d});
    r.replaceOp(op, desc);
    return success();
  }
};

struct LoadLowering : HostPattern<LoadOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(LoadOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    Type elem = type.getElementType();
    DescParts desc = unpackDesc(r, loc, a.getDesc(), op.getDesc().getType().getRank());
    SmallVector<Value> offsets(a.getOffsets());
    TypedAttr padding = op.getPaddingAttr();
    Value tile = generateTile(r, loc, type, [&](OpBuilder &b, Location l, ValueRange ivs) {
      auto [inBounds, linear] = blockElement(b, l, desc, offsets, ivs);
      auto ifOp = b.create<scf::IfOp>(
          l, inBounds,
          [&](OpBuilder &t, Location tl) {
            t.create<scf::YieldOp>(tl, ValueRange{loadElement(t, tl, desc.base, linear, elem)});
          },
          [&](OpBuilder &e, Location el) {
            Value pad = padding ? (Value)e.create<arith::ConstantOp>(el, padding)
                                : zeroOf(e, el, elem);
            e.create<scf::YieldOp>(el, ValueRange{toStorage(e, el, pad)});
          });
      return fromStorage(b, l, ifOp.getResult(0), elem);
    });
    r.replaceOp(op, tile);
    return success();
  }
};

struct StoreLowering : HostPattern<StoreOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(StoreOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getValue().getType());
    DescParts desc = unpackDesc(r, loc, a.getDesc(), op.getDesc().getType().getRank());
    SmallVector<Value> offsets(a.getOffsets());
    Value value = a.getValue();
    forEachElement(r, loc, type.getShape(), {},
                   [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange) {
                     auto [inBounds, linear] = blockElement(b, l, desc, offsets, ivs);
                     Value v = b.create<tensor::ExtractOp>(l, value, ivs);
                     whenTrue(b, l, inBounds, [&](OpBuilder &t, Location tl) {
                       storeElement(t, tl, desc.base, linear, v, type.getElementType(), emitAtomic);
                     });
                     return SmallVector<Value>{};
                   });
    r.eraseOp(op);
    return success();
  }
};

struct AddPtrLowering : HostPattern<AddPtrOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(AddPtrOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    Location loc = op.getLoc();
    Type pointee = cast<PtrType>(elementOf(op.getType())).getPointee();
    if (!isa<RankedTensorType>(op.getType())) {
      Value off = toI64(r, loc, a.getOffset());
      auto ptrType = LLVM::LLVMPointerType::get(r.getContext());
      // The verifier rejects sub-byte pointees, so elements are whole bytes here.
      Type storage = storageType(r, pointee);
      r.replaceOpWithNewOp<LLVM::GEPOp>(op, ptrType, storage, a.getPtr(), ValueRange{off});
      return success();
    }
    auto resultType = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    Value base = a.getPtr();
    if (!isa<RankedTensorType>(base.getType())) {
      Value addr = r.create<LLVM::PtrToIntOp>(loc, r.getI64Type(), base);
      base = r.create<tensor::SplatOp>(loc, addr, resultType.getShape());
    }
    Value off = a.getOffset();
    if (!isa<RankedTensorType>(off.getType()))
      off = r.create<tensor::SplatOp>(loc, off, resultType.getShape());
    off = toI64(r, loc, off);
    Value bytes = r.create<arith::MulIOp>(
        loc, off, intConst(r, loc, resultType, getElementBitWidth(pointee) / 8));
    r.replaceOpWithNewOp<arith::AddIOp>(op, base, bytes);
    return success();
  }
};

struct GatherLowering : HostPattern<GatherOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(GatherOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    Type elem = type.getElementType();
    auto ptrType = LLVM::LLVMPointerType::get(r.getContext());
    Value ptrs = a.getPtrs(), mask = a.getMask(), other = a.getOther();
    Value tile = generateTile(r, loc, type, [&](OpBuilder &b, Location l, ValueRange ivs) {
      Value raw = maskedOr(
          b, l, mask, ivs,
          [&](OpBuilder &t, Location tl) {
            Value addr = t.create<tensor::ExtractOp>(tl, ptrs, ivs);
            Value p = t.create<LLVM::IntToPtrOp>(tl, ptrType, addr);
            return loadElement(t, tl, p, i64Const(t, tl, 0), elem);
          },
          [&](OpBuilder &e, Location el) {
            Value v = other ? (Value)e.create<tensor::ExtractOp>(el, other, ivs) : zeroOf(e, el, elem);
            return toStorage(e, el, v);
          });
      return fromStorage(b, l, raw, elem);
    });
    r.replaceOp(op, tile);
    return success();
  }
};

struct ScatterLowering : HostPattern<ScatterOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(ScatterOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getValue().getType());
    auto ptrType = LLVM::LLVMPointerType::get(r.getContext());
    Value ptrs = a.getPtrs(), mask = a.getMask(), value = a.getValue();
    forEachElement(r, loc, type.getShape(), {},
                   [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange) {
                     auto store = [&](OpBuilder &t, Location tl) {
                       Value addr = t.create<tensor::ExtractOp>(tl, ptrs, ivs);
                       Value p = t.create<LLVM::IntToPtrOp>(tl, ptrType, addr);
                       Value v = t.create<tensor::ExtractOp>(tl, value, ivs);
                       storeElement(t, tl, p, i64Const(t, tl, 0), v, type.getElementType(), emitAtomic);
                     };
                     Value m = mask ? (Value)b.create<tensor::ExtractOp>(l, mask, ivs) : Value();
                     whenTrue(b, l, m, store);
                     return SmallVector<Value>{};
                   });
    r.eraseOp(op);
    return success();
  }
};

struct AtomicAddLowering : HostPattern<AtomicAddOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(AtomicAddOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    Location loc = op.getLoc();
    Type elem = elementOf(op.getType());
    auto ptrType = LLVM::LLVMPointerType::get(r.getContext());
    auto kind = isa<FloatType>(elem) ? LLVM::AtomicBinOp::fadd : LLVM::AtomicBinOp::add;
    auto atomic = [&](OpBuilder &b, Location l, Value p, Value v, Value m) -> Value {
      auto rmw = [&](OpBuilder &t, Location tl) -> Value {
        return emitAtomic(t, tl, kind, p, v);
      };
      return branchValue(b, l, m, rmw,
                         [&](OpBuilder &e, Location el) { return zeroOf(e, el, elem); });
    };
    auto tileType = dyn_cast<RankedTensorType>(op.getType());
    if (!tileType) {
      r.replaceOp(op, atomic(r, loc, a.getPtrs(), a.getValue(), a.getMask()));
      return success();
    }
    Value init = r.create<tensor::EmptyOp>(loc, tileType.getShape(), elem);
    Value ptrs = a.getPtrs(), vals = a.getValue(), mask = a.getMask();
    SmallVector<Value> result = forEachElement(
        r, loc, tileType.getShape(), ValueRange{init},
        [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange carried) {
          Value addr = b.create<tensor::ExtractOp>(l, ptrs, ivs);
          Value p = b.create<LLVM::IntToPtrOp>(l, ptrType, addr);
          Value v = b.create<tensor::ExtractOp>(l, vals, ivs);
          Value m = mask ? (Value)b.create<tensor::ExtractOp>(l, mask, ivs) : Value();
          Value old = atomic(b, l, p, v, m);
          return SmallVector<Value>{b.create<tensor::InsertOp>(l, old, carried[0], ivs)};
        });
    r.replaceOp(op, result[0]);
    return success();
  }
};

struct DotLowering : HostPattern<DotOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(DotOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    Location loc = op.getLoc();
    Value lhs = a.getA(), rhs = a.getB();
    // 8-bit floats have no LLVM type: widen them first.
    auto widen = [&](Value v) {
      auto t = cast<RankedTensorType>(v.getType());
      return isF8(t.getElementType()) ? castElements(r, loc, v, r.getF32Type(), false) : v;
    };
    lhs = widen(lhs);
    rhs = widen(rhs);
    Operation *mm;
    if (op.getType().getRank() == 2)
      mm = r.create<linalg::MatmulOp>(loc, TypeRange{op.getType()}, ValueRange{lhs, rhs},
                                      ValueRange{a.getAcc()});
    else
      mm = r.create<linalg::BatchMatmulOp>(loc, TypeRange{op.getType()}, ValueRange{lhs, rhs},
                                           ValueRange{a.getAcc()});
    r.replaceOp(op, mm->getResult(0));
    return success();
  }
};

/// Slice `k` of `tile` along `axis`, with that dimension dropped.
Value sliceAlong(OpBuilder &b, Location loc, Value tile, int64_t axis, OpFoldResult k) {
  auto type = cast<RankedTensorType>(tile.getType());
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0)), sizes, strides(type.getRank(), b.getIndexAttr(1));
  for (int64_t d = 0; d < type.getRank(); ++d)
    sizes.push_back(b.getIndexAttr(d == axis ? 1 : type.getDimSize(d)));
  offsets[axis] = k;
  SmallVector<int64_t> shape(type.getShape());
  shape.erase(shape.begin() + axis);
  auto sliceType = RankedTensorType::get(shape, type.getElementType());
  return b.create<tensor::ExtractSliceOp>(loc, sliceType, tile, offsets, sizes, strides);
}

struct ReduceLowering : HostPattern<ReduceOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(ReduceOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto inType = cast<RankedTensorType>(a.getInput().getType());
    Type elem = inType.getElementType();
    int64_t axis = op.getAxis();
    SmallVector<int64_t> outShape(inType.getShape());
    outShape.erase(outShape.begin() + axis);
    Value input = a.getInput(), init;
    if (auto kind = op.getKind()) {
      auto outType = RankedTensorType::get(outShape, elem);
      init = r.create<arith::ConstantOp>(
          loc, SplatElementsAttr::get(outType, combineIdentity(r, *kind, elem)));
    } else {
      // No identity for a user combiner: start from the first slice, reduce the rest.
      init = sliceAlong(r, loc, input, axis, r.getIndexAttr(0));
      int64_t n = inType.getDimSize(axis);
      if (n > 1) {
        SmallVector<OpFoldResult> offsets(inType.getRank(), r.getIndexAttr(0)), sizes,
            strides(inType.getRank(), r.getIndexAttr(1));
        SmallVector<int64_t> restShape(inType.getShape());
        restShape[axis] = n - 1;
        for (int64_t s : restShape)
          sizes.push_back(r.getIndexAttr(s));
        offsets[axis] = r.getIndexAttr(1);
        input = r.create<tensor::ExtractSliceOp>(loc, RankedTensorType::get(restShape, elem),
                                                 input, offsets, sizes, strides);
      } else {
        input = Value();
      }
    }
    Value result = init;
    if (auto kind = op.getKind(); kind && input) {
      // A long axis reduces in two levels (chunks of about sqrt(n), then their results)
      // so that f32 sums gather error like the GPU's tree (about (c + n / c) roundings
      // instead of n).
      int64_t n = inType.getDimSize(axis), c = 1;
      while (c * c * 4 <= n && n % (c * 2) == 0)
        c *= 2;
      if (n >= 4096 && c >= 32) {
        SmallVector<int64_t> split(inType.getShape());
        split[axis] = n / c;
        split.insert(split.begin() + axis + 1, c);
        SmallVector<ReassociationIndices> groups;
        for (int64_t d = 0, j = 0; d < inType.getRank(); ++d) {
          ReassociationIndices g{j++};
          if (d == axis)
            g.push_back(j++);
          groups.push_back(g);
        }
        input = r.create<tensor::ExpandShapeOp>(loc, RankedTensorType::get(split, elem), input,
                                                groups);
        SmallVector<int64_t> partialShape(inType.getShape());
        partialShape[axis] = n / c;
        Value partialInit = r.create<arith::ConstantOp>(
            loc, SplatElementsAttr::get(RankedTensorType::get(partialShape, elem),
                                        combineIdentity(r, *kind, elem)));
        input = r.create<linalg::ReduceOp>(
                     loc, ValueRange{input}, ValueRange{partialInit}, ArrayRef<int64_t>{axis + 1},
                     [&](OpBuilder &b, Location l, ValueRange args) {
                       b.create<linalg::YieldOp>(
                           l, applyCombiner(b, l, kind, op.getCombiner(), args[1], args[0]));
                     })
                    ->getResult(0);
      }
    }
    if (input) {
      auto reduce = r.create<linalg::ReduceOp>(
          loc, ValueRange{input}, ValueRange{init}, ArrayRef<int64_t>{axis},
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value c = applyCombiner(b, l, op.getKind(), op.getCombiner(), args[1], args[0]);
            b.create<linalg::YieldOp>(l, c);
          });
      result = reduce->getResult(0);
    }
    if (outShape.empty())
      result = r.create<tensor::ExtractOp>(loc, result, ValueRange{});
    r.replaceOp(op, result);
    return success();
  }
};

struct ScanLowering : HostPattern<ScanOp> {
  using HostPattern::HostPattern;
  LogicalResult matchAndRewrite(ScanOp op, OpAdaptor a, ConversionPatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(a.getInput().getType());
    int64_t axis = op.getAxis(), n = type.getDimSize(axis);
    Value input = a.getInput();
    bool reverse = op.getReverse();
    // Carry the output tile and the running slice; step k combines slice k into it.
    Value first = sliceAlong(r, loc, input, axis, r.getIndexAttr(reverse ? n - 1 : 0));
    Value out = r.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
    auto sliceType = cast<RankedTensorType>(first.getType());
    auto insertSlice = [&](OpBuilder &b, Location l, Value slice, Value into, OpFoldResult k) {
      SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0)), sizes,
          strides(type.getRank(), b.getIndexAttr(1));
      for (int64_t d = 0; d < type.getRank(); ++d)
        sizes.push_back(b.getIndexAttr(d == axis ? 1 : type.getDimSize(d)));
      offsets[axis] = k;
      return b.create<tensor::InsertSliceOp>(l, slice, into, offsets, sizes, strides).getResult();
    };
    out = insertSlice(r, loc, first, out, r.getIndexAttr(reverse ? n - 1 : 0));
    Value lb = r.create<arith::ConstantIndexOp>(loc, 1);
    Value ub = r.create<arith::ConstantIndexOp>(loc, n);
    Value step = r.create<arith::ConstantIndexOp>(loc, 1);
    auto loop = r.create<scf::ForOp>(
        loc, lb, ub, step, ValueRange{out, first},
        [&](OpBuilder &b, Location l, Value iv, ValueRange carried) {
          Value k = iv;
          if (reverse)
            k = b.create<arith::SubIOp>(l, b.create<arith::ConstantIndexOp>(l, n - 1), iv);
          Value slice = sliceAlong(b, l, input, axis, k);
          Value empty = b.create<tensor::EmptyOp>(l, sliceType.getShape(), sliceType.getElementType());
          auto map = b.create<linalg::MapOp>(
              l, ValueRange{carried[1], slice}, empty,
              [&](OpBuilder &mb, Location ml, ValueRange args) {
                Value c = applyCombiner(mb, ml, op.getKind(), op.getCombiner(), args[0], args[1]);
                mb.create<linalg::YieldOp>(ml, c);
              });
          Value running = map->getResult(0);
          Value next = insertSlice(b, l, running, carried[0], k);
          b.create<scf::YieldOp>(l, ValueRange{next, running});
        });
    r.replaceOp(op, loop.getResult(0));
    return success();
  }
};

/// arith.select between tiles of pointers, after pointers became integers.
struct SelectLowering : OpConversionPattern<arith::SelectOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(arith::SelectOp op, OpAdaptor a,
                                ConversionPatternRewriter &r) const override {
    r.replaceOpWithNewOp<arith::SelectOp>(op, a.getCondition(), a.getTrueValue(),
                                          a.getFalseValue());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

constexpr unsigned kGridArgs = 6;

struct KilnLowerToHostPass : mlir::kiln::impl::KilnLowerToHostBase<KilnLowerToHostPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (failed(checkStaticTiles(module)))
      return signalPassFailure();
    SmallVector<std::pair<std::string, FunctionType>> kernels;
    SmallVector<FuncOp> funcs(module.getOps<FuncOp>());
    // The host runs every tile in one thread: layouts that distribute tiles over
    // threads mean nothing here, and the upstream lowering would reject them later.
    WalkResult encoded = module.walk([&](Operation *op) {
      for (Value v : op->getResults())
        if (auto tile = dyn_cast<RankedTensorType>(v.getType()); tile && tile.getEncoding()) {
          op->emitOpError("tile with layout ")
              << tile.getEncoding() << ": the host target takes tiles without layouts";
          return WalkResult::interrupt();
        }
      return WalkResult::advance();
    });
    if (encoded.wasInterrupted() || failed(checkElementArithmetic(module)))
      return signalPassFailure();
    for (FuncOp func : funcs) {
      for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
        if (func.isConstexprParam(i)) {
          emitError(func.getBody().getArgument(i).getLoc(), "constexpr parameter '")
              << func.getParamName(i) << "' must be bound (kiln-specialize) before lowering";
          return signalPassFailure();
        }
      kernels.push_back({func.getSymName().str(), func.getFunctionType()});
    }
    for (FuncOp func : funcs)
      toFuncFunc(func);
    module.walk([&](Operation *op) {
      Type packed;
      if (auto store = dyn_cast<StoreOp>(op))
        packed = store.getDesc().getType().getElementType();
      else if (auto scatter = dyn_cast<ScatterOp>(op))
        packed = cast<RankedTensorType>(scatter.getValue().getType()).getElementType();
      if (packed && isPacked(packed)) {
        declareAtomicHelper(module, LLVM::AtomicBinOp::_and, IntegerType::get(ctx, 8));
        declareAtomicHelper(module, LLVM::AtomicBinOp::_or, IntegerType::get(ctx, 8));
      }
      if (auto atomic = dyn_cast<AtomicAddOp>(op)) {
        Type elem = elementOf(atomic.getType());
        declareAtomicHelper(module, isa<FloatType>(elem) ? LLVM::AtomicBinOp::fadd
                                                         : LLVM::AtomicBinOp::add,
                            elem);
      }
    });

    TypeConverter converter;
    converter.addConversion([](Type t) { return t; });
    converter.addConversion(
        [ctx](PtrType) -> Type { return LLVM::LLVMPointerType::get(ctx); });
    converter.addConversion([ctx](RankedTensorType t) -> Type {
      if (isa<PtrType>(t.getElementType()))
        return t.clone(IntegerType::get(ctx, 64));
      return t;
    });
    converter.addConversion([ctx](DescType d) -> Type {
      auto arr = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 64), d.getRank());
      return LLVM::LLVMStructType::getLiteral(ctx, {LLVM::LLVMPointerType::get(ctx), arr, arr});
    });
    auto cast = [](OpBuilder &b, Type type, ValueRange inputs, Location loc) -> Value {
      return b.create<UnrealizedConversionCastOp>(loc, type, inputs).getResult(0);
    };
    converter.addSourceMaterialization(cast);
    converter.addTargetMaterialization(cast);

    ConversionTarget target(*ctx);
    target.addIllegalDialect<KilnDialect>();
    target.addLegalDialect<arith::ArithDialect, math::MathDialect, tensor::TensorDialect,
                           linalg::LinalgDialect, LLVM::LLVMDialect, scf::SCFDialect,
                           func::FuncDialect>();
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return converter.isSignatureLegal(op.getFunctionType()) &&
             converter.isLegal(&op.getBody());
    });
    target.addDynamicallyLegalOp<func::ReturnOp, func::CallOp, arith::SelectOp>(
        [&](Operation *op) { return converter.isLegal(op); });

    RewritePatternSet patterns(ctx);
    patterns.add<IotaLowering, SplatLowering, BroadcastLowering,
                 ReshapeLikeLowering<ReshapeOp>, ReshapeLikeLowering<ExpandDimsOp>,
                 TransposeLowering, CastLowering, MakeDescLowering, LoadLowering,
                 StoreLowering, AddPtrLowering, GatherLowering, ScatterLowering,
                 AtomicAddLowering, DotLowering, ReduceLowering, ScanLowering,
                 SelectLowering>(converter, ctx);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns, converter);
    populateCallOpTypeConversionPattern(patterns, converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns, target);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    for (auto &[name, type] : kernels)
      buildEntryPoint(module, name, converter);
  }

  /// kiln.func -> private func.func with the program id and grid as trailing i32s.
  void toFuncFunc(FuncOp func) {
    OpBuilder b(func);
    Location loc = func.getLoc();
    SmallVector<Type> inputs(func.getArgumentTypes());
    inputs.append(kGridArgs, b.getI32Type());
    auto type = b.getFunctionType(inputs, {});
    // The body gets a reserved name: the kernel's own name may clash with user or libc
    // symbols (a kernel called `free` or `main`); only the entry point is exported.
    auto newFunc = b.create<func::FuncOp>(loc, ("kiln_kernel_" + func.getSymName()).str(), type);
    newFunc.setPrivate();
    // func-to-llvm reads this attribute: the body stays out of the object's exports.
    newFunc->setAttr("llvm.linkage",
                     LLVM::LinkageAttr::get(b.getContext(), LLVM::Linkage::Internal));
    newFunc.getBody().takeBody(func.getBody());
    Block &entry = newFunc.getBody().front();
    SmallVector<Value> grid;
    for (unsigned i = 0; i < kGridArgs; ++i)
      grid.push_back(entry.addArgument(b.getI32Type(), loc));
    newFunc.walk([&](Operation *op) {
      if (auto pid = dyn_cast<ProgramIdOp>(op)) {
        pid.replaceAllUsesWith(grid[pid.getAxis()]);
        pid.erase();
      } else if (auto num = dyn_cast<NumProgramsOp>(op)) {
        num.replaceAllUsesWith(grid[3 + num.getAxis()]);
        num.erase();
      } else if (auto ret = dyn_cast<ReturnOp>(op)) {
        OpBuilder rb(ret);
        rb.create<func::ReturnOp>(ret.getLoc());
        ret.erase();
      }
    });
    func.erase();
  }

  /// kiln_program_<name>(void **args, px, py, pz, gx, gy, gz): unpacks each argument
  /// from the pointer array and calls the kernel body.
  void buildEntryPoint(ModuleOp module, StringRef name, TypeConverter &converter) {
    auto kernel = module.lookupSymbol<func::FuncOp>(("kiln_kernel_" + name).str());
    if (!kernel)
      return;
    MLIRContext *ctx = module.getContext();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    Location loc = kernel.getLoc();
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    SmallVector<Type> inputs{ptrType};
    inputs.append(kGridArgs, b.getI32Type());
    auto entry = b.create<func::FuncOp>(loc, ("kiln_program_" + name).str(),
                                        b.getFunctionType(inputs, {}));
    Block *block = entry.addEntryBlock();
    b.setInsertionPointToStart(block);
    SmallVector<Value> callArgs;
    ArrayRef<Type> params = kernel.getFunctionType().getInputs().drop_back(kGridArgs);
    for (auto [i, type] : llvm::enumerate(params)) {
      Value slot = b.create<LLVM::GEPOp>(loc, ptrType, ptrType, block->getArgument(0),
                                         ArrayRef<LLVM::GEPArg>{(int32_t)i});
      Value valuePtr = b.create<LLVM::LoadOp>(loc, ptrType, slot);
      callArgs.push_back(b.create<LLVM::LoadOp>(loc, type, valuePtr));
    }
    for (unsigned i = 0; i < kGridArgs; ++i)
      callArgs.push_back(block->getArgument(1 + i));
    b.create<func::CallOp>(loc, kernel, callArgs);
    b.create<func::ReturnOp>(loc);
  }
};

} // namespace
