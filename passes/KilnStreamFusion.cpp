//===- KilnStreamFusion.cpp - tile a streamed axis with the online normalizer -===//
//
// A tile with a `?` dimension spans a whole streamed axis (all keys of attention, a
// whole softmax row). This pass rewrites such a kernel into loops over blocks of that
// axis. Each loop computes the reductions over the axis it can: a reduction of values
// that depend on another reduction of the same loop only through exp(x - m), or through
// a division or multiplication by a row value, is fused with the online normalizer
// (running values, rescaled accumulators, deferred divisions); anything else waits for
// a later loop that sees the earlier loops' final values. See Passes.td.
//
//===----------------------------------------------------------------------===//
#include "dialects/Kiln/KilnDialect.h"
#include "passes/Passes.h"
#include "kiln/Schedule/Attention.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "llvm/ADT/BitVector.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNSTREAMFUSION
#include "passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The dimension of `type` written `?`, or -1.
int64_t streamAxis(Type type) {
  auto tile = dyn_cast<RankedTensorType>(type);
  if (!tile)
    return -1;
  for (int64_t i = 0; i < tile.getRank(); ++i)
    if (tile.isDynamicDim(i))
      return i;
  return -1;
}

bool isStreamed(Value v) { return streamAxis(v.getType()) >= 0; }

/// The first op under `root` producing a streamed tile, or null.
Operation *firstStreamedOp(Operation *root) {
  Operation *found = nullptr;
  root->walk([&](Operation *op) {
    if (!llvm::any_of(op->getResults(), isStreamed))
      return WalkResult::advance();
    found = op;
    return WalkResult::interrupt();
  });
  return found;
}

RankedTensorType withStreamExtent(Type type, int64_t extent) {
  auto tile = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(tile.getShape());
  shape[streamAxis(tile)] = extent;
  return RankedTensorType::get(shape, tile.getElementType());
}

/// The scalar every element of `v` equals when `v` is a splat of a constant.
Attribute splatConstant(Value v) {
  Attribute attr;
  if (auto splat = v.getDefiningOp<SplatOp>())
    return matchPattern(splat.getInput(), m_Constant(&attr)) ? attr : Attribute();
  DenseElementsAttr dense;
  if (matchPattern(v, m_Constant(&dense)) && dense.isSplat())
    return dense.getSplatValue<Attribute>();
  return {};
}

bool isZeroConstant(Value v) {
  Attribute attr = splatConstant(v);
  if (auto f = dyn_cast_if_present<FloatAttr>(attr))
    return f.getValue().isZero();
  if (auto i = dyn_cast_if_present<IntegerAttr>(attr))
    return i.getValue().isZero();
  return false;
}

bool isNegInfConstant(Value v) {
  auto f = dyn_cast_if_present<FloatAttr>(splatConstant(v));
  return f && f.getValue().isInfinity() && f.getValue().isNegative();
}

/// The neutral element of a sum, max or min of `elem`s.
Attribute identityOf(OpBuilder &b, Type elem, CombineKind kind) {
  if (auto f = dyn_cast<FloatType>(elem))
    return kind == CombineKind::sum
               ? b.getFloatAttr(f, 0.0)
               : b.getFloatAttr(f, APFloat::getInf(f.getFloatSemantics(),
                                                   /*Negative=*/kind == CombineKind::max));
  unsigned w = elem.getIntOrFloatBitWidth();
  return b.getIntegerAttr(elem, kind == CombineKind::sum   ? APInt(w, 0)
                                : kind == CombineKind::max ? APInt::getSignedMinValue(w)
                                                           : APInt::getSignedMaxValue(w));
}

/// A load reading zeros past its descriptor: its tail contributes nothing to products.
bool isZeroPaddedLoad(Value v) {
  if (auto cast = v.getDefiningOp<CastOp>())
    v = cast.getInput();
  auto load = v.getDefiningOp<LoadOp>();
  if (!load)
    return false;
  auto padding = load.getPaddingAttr();
  if (!padding)
    return true;
  if (auto f = dyn_cast<FloatAttr>(padding))
    return f.getValue().isZero();
  return cast<IntegerAttr>(padding).getValue().isZero();
}

/// A row value deferred out of a streamed value: the original is the block value times
/// exp(run - row) (Exp, Exp2: the running shift against the final one), divided by the
/// row (Div) or times it (Mul). `row` has the value's shape without the streamed axis
/// (a scalar for 1-D values); it reaches the value through expand_dims + broadcast or
/// splat.
struct Factor {
  enum Kind { Exp, Exp2, Div, Mul } kind;
  Value row;
  bool operator==(const Factor &o) const { return kind == o.kind && row == o.row; }
};

/// What the analysis knows of a streamed value in one loop: whether the loop can compute
/// its blocks, the factors deferred out of them, and a fill: where `cond` is false the
/// block holds -inf or 0 (so blocks where it is false everywhere change no reduction).
struct Form {
  bool ok = false;
  SmallVector<Factor, 2> factors;
  enum Fill { None, NegInf, Zero } fill = None;
  Value cond;

  static Form plain() {
    Form f;
    f.ok = true;
    return f;
  }
  bool isPlain() const { return ok && factors.empty(); }
  Form withoutFill() const {
    Form f = *this;
    f.fill = None;
    f.cond = {};
    return f;
  }
};

/// How a streamed op's block is built when it uses a row still being reduced.
enum class Pattern { ExpShift, Defer };

enum class Avail { Ready, Running, Blocked };

/// One loop over the streamed axis.
struct LoopPlan {
  SmallVector<unsigned> reductions;
  SmallVector<Operation *> stores;
  /// Rows with an Exp factor in some reduction's input: their running value is carried.
  SmallVector<Value> shiftRows;
};

class StreamFusion {
public:
  StreamFusion(FuncOp func, int64_t block) : func(func), block(block) {}
  LogicalResult run();

private:
  // --- classification and analysis
  LogicalResult classify();
  const llvm::BitVector &depsOf(Value v);
  Avail availability(Value v);
  Value rowOf(Value v, int64_t *axis = nullptr);
  Form analyze(Value v);
  Form analyzeOp(Value v);
  Form operandForm(Value v);
  Form inputForm(unsigned r);
  bool feasible(unsigned r);
  LogicalResult plan(LoopPlan &loop);

  // --- emission
  Value constant(OpBuilder &b, Type type, Attribute scalar);
  Value splatTo(OpBuilder &b, Value scalar, Type type);
  Value expandRow(OpBuilder &b, Value row, RankedTensorType target, int64_t axis);
  Value evalFinal(Value v);
  Value running(Value v);
  Value blockOf(Value v);
  Value update(unsigned r);
  Value rowRunning(Value row);
  Value rowSafe(Value row);
  Value alpha(Factor f);
  Value scaleAccumulator(Value acc, ArrayRef<Factor> factors, bool dot);
  Value streamIndexBlock(RankedTensorType type, int64_t axis);
  Value validMask(RankedTensorType type, int64_t axis);
  Value streamIndexOffset(Type type);
  bool isStreamIndex(Value v);
  bool isInvariant(Value v);
  Value narrow(Value v);
  Value extremeOfInvariant(Value v, CombineKind kind);
  Value condBound(Value cond);
  Value condBoundOf(Value cond);
  Value condStart(Value cond);
  std::pair<Value, bool> keyLimit(Operation *op);
  Value saturatingNext(Value v);
  Value loopBound(const LoopPlan &loop);
  Value initAccumulator(unsigned r);
  bool coverNegInf(Value v);
  bool coverZero(Value v);
  void decideMasks(const LoopPlan &loop);
  SmallVector<Value> emitFor(const LoopPlan &loop, Value lo, Value hi, ValueRange inits,
                             bool clean);
  LogicalResult emitLoop(const LoopPlan &loop);
  LogicalResult finish(const LoopPlan &loop, ArrayRef<Value> results);

  FuncOp func;
  int64_t block;
  Block *body = nullptr;
  Location loc = UnknownLoc();

  SmallVector<Operation *> reductions;
  DenseMap<Operation *, unsigned> reductionIds;
  SmallVector<Operation *> stores;
  DenseSet<Operation *> storesDone; // written by an emitted loop
  DenseSet<Operation *> streamedOps;
  DenseMap<Value, llvm::BitVector> deps;
  LoadOp extentLoad;

  // Per-loop analysis.
  llvm::BitVector done, current;
  DenseMap<Value, Form> forms;
  DenseMap<Operation *, Pattern> patterns;
  DenseMap<Operation *, unsigned> deferredOperand;
  DenseMap<Operation *, int64_t> shiftAxis;
  // How blocks ignore positions past the extent: selects whose condition also tests
  // it, values set to -inf there, and reduction operands selected directly.
  DenseSet<Operation *> strengthened;
  DenseSet<Value> negInfMasked;
  DenseSet<std::pair<unsigned, unsigned>> directMasks; // (reduction, operand)
  // Selects whose condition holds everywhere before `cleanEnd`: blocks there need
  // neither them nor the extent masks, and run in a loop of their own.
  DenseSet<Operation *> droppable;
  Value cleanEnd;

  // Emission.
  OpBuilder outer{func.getContext()};
  Value extent;
  DenseMap<Value, Value> finalValues;
  DenseMap<unsigned, Value> finals;
  DenseMap<Value, Value> bounds;

  // One loop body's values.
  struct Iteration {
    OpBuilder *b;
    Value kb;
    bool clean;
    DenseMap<Value, Value> blocks, statics;
    DenseMap<unsigned, Value> accIn, accOut;
    DenseMap<Value, Value> prev, run, safe;
    DenseMap<std::pair<Value, int>, Value> alphas;
    DenseMap<std::pair<Type, int64_t>, Value> masks, indices;
  } *it = nullptr;
};

//===----------------------------------------------------------------------===//
// Classification
//===----------------------------------------------------------------------===//

/// Values an op reads, including those its regions use from outside.
void forEachUsedValue(Operation *op, function_ref<void(Value)> fn) {
  for (Value v : op->getOperands())
    fn(v);
  op->walk([&](Operation *inner) {
    if (inner == op)
      return;
    for (Value v : inner->getOperands())
      if (!op->isAncestor(v.getParentRegion()->getParentOp()))
        fn(v);
  });
}

bool isElementwise(Operation *op) {
  return isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) &&
         op->getNumResults() == 1 && op->getNumRegions() == 0;
}

LogicalResult StreamFusion::classify() {
  for (Operation &op : body->without_terminator()) {
    bool streamedResult = llvm::any_of(op.getResults(), isStreamed);
    bool streamedOperand = llvm::any_of(op.getOperands(), isStreamed);
    for (Value v : op.getResults())
      if (auto tile = dyn_cast<RankedTensorType>(v.getType());
          tile && tile.getNumDynamicDims() > 1)
        return op.emitOpError("tile ") << tile << " has more than one streamed ('?') dimension";
    WalkResult nested = op.walk([&](Operation *inner) {
      if (inner == &op)
        return WalkResult::advance();
      bool streamed = llvm::any_of(inner->getOperands(), isStreamed) ||
                      llvm::any_of(inner->getResults(), isStreamed);
      return streamed ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (nested.wasInterrupted())
      return op.emitOpError("uses a streamed ('?') tile inside a region; streamed tiles "
                            "must be at the top level of the kernel");
    if (streamedResult) {
      bool known = isa<LoadOp, IotaOp, SplatOp, BroadcastOp, ExpandDimsOp, TransposeOp,
                       CastOp, DotOp>(op) ||
                   isElementwise(&op);
      if (auto reduce = dyn_cast<ReduceOp>(op))
        known = reduce.getAxis() != streamAxis(reduce.getInput().getType());
      if (!known)
        return op.emitOpError("cannot produce a streamed ('?') tile; streamed tiles come "
                              "from loads, iota, splat, broadcast, expand_dims, transpose, "
                              "cast, dot, elementwise ops and reductions along other axes");
      if (auto load = dyn_cast<LoadOp>(op); load && !extentLoad)
        extentLoad = load;
      streamedOps.insert(&op);
      continue;
    }
    if (!streamedOperand)
      continue;
    if (isa<StoreOp>(op)) {
      stores.push_back(&op);
      streamedOps.insert(&op);
      continue;
    }
    bool reduction = false;
    if (auto reduce = dyn_cast<ReduceOp>(op)) {
      auto kind = reduce.getKind();
      if (!kind || (*kind != CombineKind::sum && *kind != CombineKind::max &&
                    *kind != CombineKind::min))
        return op.emitOpError("reduces a streamed axis with ")
               << (kind ? stringifyCombineKind(*kind) : StringRef("a combiner region"))
               << "; streamed reductions are sum, max or min";
      reduction = true;
    } else if (auto dot = dyn_cast<DotOp>(op)) {
      auto a = cast<RankedTensorType>(dot.getA().getType());
      reduction = a.isDynamicDim(a.getRank() - 1);
    }
    if (!reduction)
      return op.emitOpError("uses a streamed ('?') tile but is not a reduction along the "
                            "streamed axis, a contraction over it or a store");
    reductionIds[&op] = reductions.size();
    reductions.push_back(&op);
    streamedOps.insert(&op);
  }
  if (!extentLoad)
    return func.emitOpError("has streamed ('?') tiles but no streamed load gives the "
                            "stream's extent");
  if (!extentLoad.getDesc().getDefiningOp<MakeDescOp>())
    return extentLoad.emitOpError("reads a streamed tile through a descriptor that is not "
                                  "made by kiln.make_desc in this kernel; its shape gives "
                                  "the stream's extent");
  return success();
}

const llvm::BitVector &StreamFusion::depsOf(Value v) {
  if (auto found = deps.find(v); found != deps.end())
    return found->second;
  llvm::BitVector bits(reductions.size());
  Operation *op = v.getDefiningOp();
  if (op && op->getBlock() == body) {
    if (auto id = reductionIds.find(op); id != reductionIds.end())
      bits.set(id->second);
    else if (!streamedOps.contains(op))
      forEachUsedValue(op, [&](Value u) { bits |= depsOf(u); });
  }
  return deps[v] = bits;
}

Avail StreamFusion::availability(Value v) {
  llvm::BitVector rest = depsOf(v);
  rest.reset(done);
  if (rest.none())
    return Avail::Ready;
  rest.reset(current);
  return rest.none() ? Avail::Running : Avail::Blocked;
}

/// The static row `v` (a streamed value) repeats along the streamed axis: the input of
/// splat, or X of broadcast(expand_dims(X)) expanded at the streamed axis.
Value StreamFusion::rowOf(Value v, int64_t *axis) {
  int64_t a = streamAxis(v.getType());
  if (axis)
    *axis = a;
  if (auto splat = v.getDefiningOp<SplatOp>())
    return splat.getInput();
  auto broadcast = v.getDefiningOp<BroadcastOp>();
  if (!broadcast || isStreamed(broadcast.getInput()))
    return {};
  auto expand = broadcast.getInput().getDefiningOp<ExpandDimsOp>();
  if (!expand || expand.getAxis() != a)
    return {};
  return expand.getInput();
}

Form StreamFusion::analyze(Value v) {
  if (auto found = forms.find(v); found != forms.end())
    return found->second;
  Form form = analyzeOp(v);
  forms[v] = form;
  return form;
}

/// A static operand must be ready; a streamed one is analysed.
Form StreamFusion::operandForm(Value v) {
  if (!isStreamed(v))
    return availability(v) == Avail::Ready ? Form::plain() : Form();
  return analyze(v);
}

Form StreamFusion::analyzeOp(Value v) {
  Operation *op = v.getDefiningOp();
  auto allPlain = [&] {
    for (Value operand : op->getOperands())
      if (!operandForm(operand).isPlain())
        return Form();
    return Form::plain();
  };
  if (isa<LoadOp, IotaOp, SplatOp, BroadcastOp, ExpandDimsOp, TransposeOp, DotOp, ReduceOp>(op))
    return allPlain();
  if (auto cast = dyn_cast<CastOp>(op)) {
    Form in = operandForm(cast.getInput());
    bool floats = isa<FloatType>(getElementTypeOrSelf(cast.getInput().getType())) &&
                  isa<FloatType>(getElementTypeOrSelf(cast.getType()));
    if (!in.ok || (!floats && !in.factors.empty()))
      return Form();
    return floats ? in : in.withoutFill();
  }
  if (!isElementwise(op))
    return Form();

  if (isa<math::ExpOp, math::Exp2Op>(op)) {
    // exp(x - m) with m still being reduced: computed against the running m.
    if (auto sub = op->getOperand(0).getDefiningOp<arith::SubFOp>()) {
      int64_t axis;
      Value row = rowOf(sub.getRhs(), &axis);
      if (row && isStreamed(sub.getLhs()) && availability(row) == Avail::Running) {
        Form x = operandForm(sub.getLhs());
        if (!x.isPlain())
          return Form();
        Form f = Form::plain();
        f.factors.push_back({isa<math::ExpOp>(op) ? Factor::Exp : Factor::Exp2, row});
        if (x.fill == Form::NegInf) {
          f.fill = Form::Zero;
          f.cond = x.cond;
        }
        patterns[op] = Pattern::ExpShift;
        shiftAxis[op] = axis;
        return f;
      }
    }
    Form x = operandForm(op->getOperand(0));
    if (!x.isPlain())
      return Form();
    Form f = Form::plain();
    if (x.fill == Form::NegInf) {
      f.fill = Form::Zero;
      f.cond = x.cond;
    }
    return f;
  }
  if (isa<arith::DivFOp, arith::MulFOp>(op)) {
    bool div = isa<arith::DivFOp>(op);
    // x / l or x * r with the row still being reduced: deferred to the reduction's end.
    for (unsigned rowSide : div ? SmallVector<unsigned>{1} : SmallVector<unsigned>{1, 0}) {
      Value row = rowOf(op->getOperand(rowSide));
      if (!row || !isStreamed(op->getOperand(1 - rowSide)) ||
          availability(row) != Avail::Running)
        continue;
      Form x = operandForm(op->getOperand(1 - rowSide));
      if (!x.ok)
        return Form();
      x.factors.push_back({div ? Factor::Div : Factor::Mul, row});
      patterns[op] = Pattern::Defer;
      deferredOperand[op] = 1 - rowSide;
      return x;
    }
    Form a = operandForm(op->getOperand(0)), b = operandForm(op->getOperand(1));
    if (!a.ok || !b.ok || (div && !b.factors.empty()))
      return Form();
    Form f = Form::plain();
    f.factors = a.factors;
    f.factors.append(b.factors.begin(), b.factors.end());
    return f;
  }
  if (isa<arith::AddFOp, arith::SubFOp>(op)) {
    Form a = operandForm(op->getOperand(0)), b = operandForm(op->getOperand(1));
    if (!a.ok || !b.ok || a.factors != b.factors)
      return Form();
    return a.withoutFill();
  }
  if (isa<arith::NegFOp>(op)) {
    Form a = operandForm(op->getOperand(0));
    return a.ok ? a.withoutFill() : Form();
  }
  if (auto select = dyn_cast<arith::SelectOp>(op)) {
    Form c = operandForm(select.getCondition());
    Form t = operandForm(select.getTrueValue());
    if (!c.isPlain() || !t.ok)
      return Form();
    bool streamedCond = isStreamed(select.getCondition());
    if (streamedCond && t.isPlain() && isNegInfConstant(select.getFalseValue())) {
      Form f = Form::plain();
      f.fill = Form::NegInf;
      f.cond = select.getCondition();
      return f;
    }
    if (streamedCond && isZeroConstant(select.getFalseValue())) {
      Form f = t;
      f.fill = Form::Zero;
      f.cond = select.getCondition();
      return f;
    }
    Form e = operandForm(select.getFalseValue());
    if (!e.ok || t.factors != e.factors)
      return Form();
    return t.withoutFill();
  }
  return allPlain();
}

/// The form of what reduction `r` reduces (a dot's `a`).
Form StreamFusion::inputForm(unsigned r) {
  if (auto reduce = dyn_cast<ReduceOp>(reductions[r]))
    return analyze(reduce.getInput());
  return analyze(cast<DotOp>(reductions[r]).getA());
}

bool StreamFusion::feasible(unsigned r) {
  Form in = inputForm(r);
  if (!in.ok)
    return false;
  if (auto reduce = dyn_cast<ReduceOp>(reductions[r]))
    return *reduce.getKind() == CombineKind::sum || in.isPlain();
  auto dot = cast<DotOp>(reductions[r]);
  return operandForm(dot.getB()).isPlain() && availability(dot.getAcc()) == Avail::Ready;
}

LogicalResult StreamFusion::plan(LoopPlan &loop) {
  current = llvm::BitVector(reductions.size());
  for (unsigned r = 0; r < reductions.size(); ++r)
    if (!done.test(r))
      current.set(r);
  // Drop reductions this loop cannot compute until the rest is consistent.
  for (bool changed = true; changed;) {
    changed = false;
    forms.clear();
    patterns.clear();
    deferredOperand.clear();
    shiftAxis.clear();
    for (unsigned r : current.set_bits())
      if (!feasible(r)) {
        current.reset(r);
        changed = true;
        break;
      }
  }
  for (unsigned r : current.set_bits()) {
    loop.reductions.push_back(r);
    for (const Factor &f : inputForm(r).factors)
      if ((f.kind == Factor::Exp || f.kind == Factor::Exp2) && !llvm::is_contained(loop.shiftRows, f.row))
        loop.shiftRows.push_back(f.row);
  }
  for (Operation *store : stores) {
    auto s = cast<StoreOp>(store);
    if (storesDone.contains(store))
      continue;
    bool ready = operandForm(s.getValue()).isPlain() &&
                 availability(s.getDesc()) == Avail::Ready &&
                 llvm::all_of(s.getOffsets(),
                              [&](Value o) { return availability(o) == Avail::Ready; });
    if (ready)
      loop.stores.push_back(store);
  }
  if (!loop.reductions.empty() || !loop.stores.empty())
    return success();
  for (unsigned r = 0; r < reductions.size(); ++r)
    if (!done.test(r))
      return reductions[r]->emitOpError(
          "cannot be computed over blocks of the streamed axis: its input depends on "
          "another streamed reduction other than through exp(x - m), a division or a "
          "multiplication by a row, or it is not a sum of such values");
  for (Operation *store : stores)
    if (!storesDone.contains(store))
      return store->emitOpError("stores a streamed tile that no loop over the axis can "
                                "compute");
  return failure();
}

//===----------------------------------------------------------------------===//
// Emission
//===----------------------------------------------------------------------===//

Value StreamFusion::constant(OpBuilder &b, Type type, Attribute scalar) {
  Value c = b.create<arith::ConstantOp>(loc, cast<TypedAttr>(scalar));
  return splatTo(b, c, type);
}

Value StreamFusion::splatTo(OpBuilder &b, Value scalar, Type type) {
  if (!isa<RankedTensorType>(type))
    return scalar;
  return b.create<SplatOp>(loc, type, scalar);
}

/// A row (the value's shape without `axis`, or a scalar) repeated along `axis` to `target`.
Value StreamFusion::expandRow(OpBuilder &b, Value row, RankedTensorType target, int64_t axis) {
  if (!isa<RankedTensorType>(row.getType()))
    return b.create<SplatOp>(loc, target, row);
  SmallVector<int64_t> shape(target.getShape());
  shape[axis] = 1;
  auto expandedType = RankedTensorType::get(shape, target.getElementType());
  Value expanded = b.create<ExpandDimsOp>(loc, expandedType, row, b.getI32IntegerAttr(axis));
  if (expandedType == target)
    return expanded;
  return b.create<BroadcastOp>(loc, target, expanded);
}

/// `v` after the loops emitted so far (cloned at `outer` on first use).
Value StreamFusion::evalFinal(Value v) {
  if (depsOf(v).none())
    return v;
  if (auto found = finalValues.find(v); found != finalValues.end())
    return found->second;
  Operation *op = v.getDefiningOp();
  if (auto id = reductionIds.find(op); id != reductionIds.end())
    return finals.lookup(id->second);
  IRMapping map;
  forEachUsedValue(op, [&](Value u) {
    if (Value f = evalFinal(u); f != u)
      map.map(u, f);
  });
  Operation *clone = outer.clone(*op, map);
  for (auto [orig, copy] : llvm::zip(op->getResults(), clone->getResults()))
    finalValues[orig] = copy;
  return finalValues[v];
}

/// A static value inside the current loop body: ready values come from before the
/// loop, values depending on this loop's reductions use their running values.
Value StreamFusion::running(Value v) {
  if (availability(v) == Avail::Ready)
    return evalFinal(v);
  if (auto found = it->statics.find(v); found != it->statics.end())
    return found->second;
  Operation *op = v.getDefiningOp();
  if (auto id = reductionIds.find(op); id != reductionIds.end())
    return update(id->second);
  IRMapping map;
  forEachUsedValue(op, [&](Value u) {
    if (!isStreamed(u))
      map.map(u, running(u));
  });
  Operation *clone = it->b->clone(*op, map);
  for (auto [orig, copy] : llvm::zip(op->getResults(), clone->getResults()))
    it->statics[orig] = copy;
  return it->statics[v];
}

/// The index of the current block's first element, as `type`.
Value StreamFusion::streamIndexOffset(Type type) {
  OpBuilder &b = *it->b;
  if (type == it->kb.getType())
    return it->kb;
  if (type.getIntOrFloatBitWidth() > it->kb.getType().getIntOrFloatBitWidth())
    return b.create<arith::ExtSIOp>(loc, type, it->kb);
  return b.create<arith::TruncIOp>(loc, type, it->kb);
}

Value StreamFusion::blockOf(Value v) {
  if (auto found = it->blocks.find(v); found != it->blocks.end())
    return found->second;
  OpBuilder &b = *it->b;
  Operation *op = v.getDefiningOp();
  Value result;
  if (auto load = dyn_cast<LoadOp>(op)) {
    int64_t axis = streamAxis(load.getType());
    SmallVector<Value> offsets;
    for (auto [i, offset] : llvm::enumerate(load.getOffsets())) {
      Value o = running(offset);
      if ((int64_t)i == axis)
        o = b.create<arith::AddIOp>(loc, o, streamIndexOffset(o.getType()));
      offsets.push_back(o);
    }
    auto copy = b.create<LoadOp>(loc, withStreamExtent(load.getType(), block),
                                 running(load.getDesc()), offsets, load.getPaddingAttr());
    result = copy.getResult();
  } else if (it->clean && droppable.contains(op)) {
    result = blockOf(cast<arith::SelectOp>(op).getTrueValue());
  } else if (isStreamIndex(v)) {
    result = streamIndexBlock(withStreamExtent(v.getType(), block), streamAxis(v.getType()));
  } else if (auto p = patterns.find(op); p != patterns.end() && p->second == Pattern::ExpShift) {
    auto sub = op->getOperand(0).getDefiningOp<arith::SubFOp>();
    Value x = blockOf(sub.getLhs());
    auto type = cast<RankedTensorType>(x.getType());
    Value shift = expandRow(b, rowSafe(rowOf(sub.getRhs())), type, shiftAxis.lookup(op));
    Value shifted = b.create<arith::SubFOp>(loc, x, shift, sub.getFastmathAttr());
    IRMapping map;
    map.map(op->getOperand(0), shifted);
    result = b.clone(*op, map)->getResult(0);
    result.setType(type);
  } else if (patterns.count(op)) {
    result = blockOf(op->getOperand(deferredOperand.lookup(op)));
  } else {
    IRMapping map;
    forEachUsedValue(op, [&](Value u) { map.map(u, isStreamed(u) ? blockOf(u) : running(u)); });
    Operation *clone = b.clone(*op, map);
    for (Value r : clone->getResults())
      if (isStreamed(r))
        r.setType(withStreamExtent(r.getType(), block));
    result = clone->getResult(cast<OpResult>(v).getResultNumber());
  }
  if (!it->clean && strengthened.contains(op)) {
    // select(c, x, fill) -> select(c && inside, x, fill)
    auto select = cast<arith::SelectOp>(result.getDefiningOp());
    auto condType = cast<RankedTensorType>(select.getCondition().getType());
    Value inside = validMask(condType, streamAxis(v.getType()));
    select.getConditionMutable().assign(
        b.create<arith::AndIOp>(loc, select.getCondition(), inside).getResult());
    select->moveAfter(select.getCondition().getDefiningOp());
  }
  if (!it->clean && negInfMasked.contains(v)) {
    auto type = cast<RankedTensorType>(result.getType());
    auto f = cast<FloatType>(type.getElementType());
    Value ninf = constant(b, type, b.getFloatAttr(f, APFloat::getInf(f.getFloatSemantics(),
                                                                     /*Negative=*/true)));
    result = b.create<arith::SelectOp>(loc, validMask(type, streamAxis(v.getType())), result,
                                       ninf);
  }
  it->blocks[v] = result;
  return result;
}

/// Positions of the current block inside the stream, as an i1 tile of `type`'s shape.
/// The stream index of each element of a block of `type` (integers), varying along
/// `axis`: an iota repeated over the other dimensions, which stays out of the loop,
/// plus the block's start, added per element (so no layout conversion runs per block).
Value StreamFusion::streamIndexBlock(RankedTensorType type, int64_t axis) {
  auto key = std::make_pair(Type(type), axis);
  if (Value found = it->indices.lookup(key))
    return found;
  OpBuilder &b = *it->b;
  Type elem = type.getElementType();
  Value base = b.create<IotaOp>(loc, RankedTensorType::get({block}, elem));
  // Size-1 dimensions everywhere but `axis`, inserted in order.
  SmallVector<int64_t> shape{block};
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (i == axis)
      continue;
    shape.insert(shape.begin() + i, 1);
    base = b.create<ExpandDimsOp>(loc, RankedTensorType::get(shape, elem), base,
                                  b.getI32IntegerAttr(i));
  }
  if (base.getType() != type)
    base = b.create<BroadcastOp>(loc, type, base);
  Value index = b.create<arith::AddIOp>(loc, base, splatTo(b, streamIndexOffset(elem), type));
  return it->indices[key] = index;
}

/// Positions of the current block inside the stream, as an i1 tile of `type`'s shape.
Value StreamFusion::validMask(RankedTensorType type, int64_t axis) {
  auto key = std::make_pair(Type(type), axis);
  if (Value found = it->masks.lookup(key))
    return found;
  OpBuilder &b = *it->b;
  auto indexType = RankedTensorType::get(type.getShape(), b.getI32Type());
  Value index = streamIndexBlock(indexType, axis);
  Value mask = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, index,
                                       splatTo(b, extent, indexType));
  return it->masks[key] = mask;
}

Value StreamFusion::rowRunning(Value row) {
  if (Value found = it->run.lookup(row))
    return found;
  return it->run[row] = running(row);
}

/// The running row with -inf replaced by 0: shifting by it keeps exp(-inf - m) at 0.
Value StreamFusion::rowSafe(Value row) {
  if (Value found = it->safe.lookup(row))
    return found;
  OpBuilder &b = *it->b;
  Value run = rowRunning(row);
  Type elem = getElementTypeOrSelf(run.getType());
  auto floatType = cast<FloatType>(elem);
  Value ninf = constant(b, run.getType(),
                        b.getFloatAttr(floatType, APFloat::getInf(floatType.getFloatSemantics(),
                                                                  /*Negative=*/true)));
  Value zero = constant(b, run.getType(), b.getFloatAttr(floatType, 0.0));
  Value isNinf = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, run, ninf);
  return it->safe[row] = b.create<arith::SelectOp>(loc, isNinf, zero, run);
}

/// The factor blocks so far are rescaled by when the row moves: exp(prev - safe).
Value StreamFusion::alpha(Factor f) {
  auto key = std::make_pair(f.row, (int)f.kind);
  if (Value found = it->alphas.lookup(key))
    return found;
  OpBuilder &b = *it->b;
  Value delta = b.create<arith::SubFOp>(loc, it->prev.lookup(f.row), rowSafe(f.row));
  Value a = f.kind == Factor::Exp ? b.create<math::ExpOp>(loc, delta).getResult()
                                  : b.create<math::Exp2Op>(loc, delta).getResult();
  return it->alphas[key] = a;
}

/// `acc` times the rescale of every Exp factor (a row per accumulator row).
Value StreamFusion::scaleAccumulator(Value acc, ArrayRef<Factor> factors, bool dot) {
  OpBuilder &b = *it->b;
  Value scale;
  for (const Factor &f : factors) {
    if (f.kind != Factor::Exp && f.kind != Factor::Exp2)
      continue;
    Value a = alpha(f);
    scale = scale ? b.create<arith::MulFOp>(loc, scale, a).getResult() : a;
  }
  if (!scale)
    return acc;
  if (auto type = dyn_cast<RankedTensorType>(acc.getType()); type && scale.getType() != type)
    scale = expandRow(b, scale, type, dot ? type.getRank() - 1 : 0);
  return b.create<arith::MulFOp>(loc, acc, scale);
}

Value StreamFusion::update(unsigned r) {
  if (Value found = it->accOut.lookup(r))
    return found;
  OpBuilder &b = *it->b;
  Operation *op = reductions[r];
  Value acc = it->accIn.lookup(r);
  Form in = inputForm(r);
  Value result;
  if (auto reduce = dyn_cast<ReduceOp>(op)) {
    Value x = blockOf(reduce.getInput());
    auto type = cast<RankedTensorType>(x.getType());
    Type elem = type.getElementType();
    CombineKind kind = *reduce.getKind();
    if (!it->clean && directMasks.contains({r, 0})) {
      x = b.create<arith::SelectOp>(loc, validMask(type, reduce.getAxis()), x,
                                    constant(b, type, identityOf(b, elem, kind)));
    }
    Value part = b.create<ReduceOp>(loc, reduce.getType(), x, reduce.getAxis(), kind);
    bool isFloat = isa<FloatType>(elem);
    if (kind == CombineKind::sum) {
      Value scaled = scaleAccumulator(acc, in.factors, /*dot=*/false);
      result = isFloat ? b.create<arith::AddFOp>(loc, scaled, part).getResult()
                       : b.create<arith::AddIOp>(loc, scaled, part).getResult();
    } else if (kind == CombineKind::max) {
      result = isFloat ? b.create<arith::MaximumFOp>(loc, acc, part).getResult()
                       : b.create<arith::MaxSIOp>(loc, acc, part).getResult();
    } else {
      result = isFloat ? b.create<arith::MinimumFOp>(loc, acc, part).getResult()
                       : b.create<arith::MinSIOp>(loc, acc, part).getResult();
    }
  } else {
    auto dot = cast<DotOp>(op);
    Value a = blockOf(dot.getA()), bb = blockOf(dot.getB());
    {
      auto maskOperand = [&](Value operand, int64_t axis) {
        auto type = cast<RankedTensorType>(operand.getType());
        return b.create<arith::SelectOp>(loc, validMask(type, axis), operand,
                                         constant(b, type, b.getZeroAttr(type.getElementType())))
            .getResult();
      };
      int64_t rank = cast<RankedTensorType>(a.getType()).getRank();
      if (!it->clean && directMasks.contains({r, 0}))
        a = maskOperand(a, rank - 1);
      if (!it->clean && directMasks.contains({r, 1}))
        bb = maskOperand(bb, rank - 2);
    }
    Value scaled = scaleAccumulator(acc, in.factors, /*dot=*/true);
    result = b.create<DotOp>(loc, acc.getType(), a, bb, scaled);
  }
  it->accOut[r] = result;
  return result;
}

Value StreamFusion::initAccumulator(unsigned r) {
  Operation *op = reductions[r];
  if (auto dot = dyn_cast<DotOp>(op)) {
    if (!isZeroConstant(dot.getAcc()) && inputForm(r).isPlain())
      return evalFinal(dot.getAcc());
    auto type = cast<RankedTensorType>(dot.getType());
    return constant(outer, type, outer.getZeroAttr(type.getElementType()));
  }
  auto reduce = cast<ReduceOp>(op);
  Type type = reduce.getType();
  Type elem = getElementTypeOrSelf(type);
  return constant(outer, type, identityOf(outer, elem, *reduce.getKind()));
}

bool StreamFusion::isStreamIndex(Value v) {
  Operation *op = v.getDefiningOp();
  if (isa_and_nonnull<IotaOp>(op))
    return isStreamed(v);
  if (isa_and_nonnull<ExpandDimsOp, BroadcastOp>(op))
    return isStreamed(op->getOperand(0)) && isStreamIndex(op->getOperand(0));
  return false;
}

/// A streamed value equal in every block: splats and broadcasts of ready values and
/// elementwise ops of them.
bool StreamFusion::isInvariant(Value v) {
  if (!isStreamed(v))
    return availability(v) == Avail::Ready;
  Operation *op = v.getDefiningOp();
  if (isa<SplatOp, BroadcastOp>(op))
    return !isStreamed(op->getOperand(0)) && availability(op->getOperand(0)) == Avail::Ready;
  if (isElementwise(op) && !patterns.count(op))
    return llvm::all_of(op->getOperands(), [&](Value o) { return isInvariant(o); });
  return false;
}

/// An invariant streamed value with its streamed axis of extent 1, before the loops.
Value StreamFusion::narrow(Value v) {
  if (!isStreamed(v))
    return evalFinal(v);
  Operation *op = v.getDefiningOp();
  auto type = withStreamExtent(v.getType(), 1);
  if (auto splat = dyn_cast<SplatOp>(op))
    return outer.create<SplatOp>(loc, type, evalFinal(splat.getInput()));
  if (auto broadcast = dyn_cast<BroadcastOp>(op)) {
    Value in = evalFinal(broadcast.getInput());
    return in.getType() == type ? in : outer.create<BroadcastOp>(loc, type, in).getResult();
  }
  IRMapping map;
  for (Value o : op->getOperands())
    map.map(o, narrow(o));
  Operation *clone = outer.clone(*op, map);
  clone->getResult(0).setType(type);
  return clone->getResult(0);
}

/// The largest (max) or smallest (min) element of an invariant integer value, as i32.
Value StreamFusion::extremeOfInvariant(Value v, CombineKind kind) {
  Value x = narrow(v);
  while (auto type = dyn_cast<RankedTensorType>(x.getType())) {
    Type resultType = type.getElementType();
    if (type.getRank() > 1) {
      SmallVector<int64_t> shape(type.getShape().drop_front());
      resultType = RankedTensorType::get(shape, type.getElementType());
    }
    x = outer.create<ReduceOp>(loc, resultType, x, 0, kind);
  }
  Type i32 = outer.getI32Type();
  if (x.getType().getIntOrFloatBitWidth() > 32)
    x = outer.create<arith::TruncIOp>(loc, i32, x);
  else if (x.getType() != i32)
    x = outer.create<arith::ExtSIOp>(loc, i32, x);
  return x;
}

/// X and whether it is inclusive when `op` is `key <= X`, `key < X`, `X >= key` or
/// `X > key` with the stream index `key` and an invariant X; else a null X.
std::pair<Value, bool> StreamFusion::keyLimit(Operation *op) {
  auto cmp = dyn_cast_if_present<arith::CmpIOp>(op);
  if (!cmp)
    return {};
  arith::CmpIPredicate pred = cmp.getPredicate();
  if (isStreamIndex(cmp.getLhs()) && isInvariant(cmp.getRhs()) &&
      (pred == arith::CmpIPredicate::sle || pred == arith::CmpIPredicate::slt))
    return {cmp.getRhs(), pred == arith::CmpIPredicate::sle};
  if (isStreamIndex(cmp.getRhs()) && isInvariant(cmp.getLhs()) &&
      (pred == arith::CmpIPredicate::sge || pred == arith::CmpIPredicate::sgt))
    return {cmp.getLhs(), pred == arith::CmpIPredicate::sge};
  return {};
}

/// `v + 1`, staying at INT32_MAX (a limit that means "none").
Value StreamFusion::saturatingNext(Value v) {
  Type i32 = outer.getI32Type();
  Value max = outer.create<arith::ConstantIntOp>(loc, i32, INT32_MAX);
  Value isMax = outer.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, v, max);
  Value next =
      outer.create<arith::AddIOp>(loc, v, outer.create<arith::ConstantIntOp>(loc, i32, 1));
  return outer.create<arith::SelectOp>(loc, isMax, v, next);
}

/// An end for the stream past which `cond` is false, from `key <= X` / `key < X`.
Value StreamFusion::condBound(Value cond) {
  if (auto found = bounds.find(cond); found != bounds.end())
    return found->second;
  Value bound = condBoundOf(cond);
  bounds[cond] = bound;
  return bound;
}

Value StreamFusion::condBoundOf(Value cond) {
  Operation *op = cond.getDefiningOp();
  if (auto andOp = dyn_cast_if_present<arith::AndIOp>(op)) {
    Value l = condBound(andOp.getLhs()), r = condBound(andOp.getRhs());
    if (l && r)
      return outer.create<arith::MinSIOp>(loc, l, r);
    return l ? l : r;
  }
  auto [limit, inclusive] = keyLimit(op);
  if (!limit)
    return {};
  Value bound = extremeOfInvariant(limit, CombineKind::max);
  return inclusive ? saturatingNext(bound) : bound;
}

/// A start of the stream before which `cond` holds everywhere (from `key <= X`,
/// `key < X` and their conjunctions), or null.
Value StreamFusion::condStart(Value cond) {
  Operation *op = cond.getDefiningOp();
  if (auto andOp = dyn_cast_if_present<arith::AndIOp>(op)) {
    Value l = condStart(andOp.getLhs()), r = condStart(andOp.getRhs());
    return l && r ? outer.create<arith::MinSIOp>(loc, l, r).getResult() : Value();
  }
  auto [limit, inclusive] = keyLimit(op);
  if (!limit)
    return {};
  Value start = extremeOfInvariant(limit, CombineKind::min);
  return inclusive ? saturatingNext(start) : start;
}

/// Where the loop may stop: past it every reduction's input is its identity.
Value StreamFusion::loopBound(const LoopPlan &loop) {
  if (!loop.stores.empty())
    return {};
  Value bound;
  for (unsigned r : loop.reductions) {
    Form in = inputForm(r);
    Form::Fill needed = Form::Zero;
    if (auto reduce = dyn_cast<ReduceOp>(reductions[r])) {
      if (*reduce.getKind() == CombineKind::min)
        return {};
      if (*reduce.getKind() == CombineKind::max)
        needed = Form::NegInf;
    }
    if (in.fill != needed || !in.cond)
      return {};
    Value b = condBound(in.cond);
    if (!b)
      return {};
    if (b != bound)
      bound = bound ? outer.create<arith::MaxSIOp>(loc, bound, b).getResult() : b;
  }
  return bound;
}

/// Makes `v` -inf past the extent: the select producing it tests the extent too, or
/// its blocks are masked.
bool StreamFusion::coverNegInf(Value v) {
  if (auto select = v.getDefiningOp<arith::SelectOp>();
      select && isStreamed(select.getCondition()) && isNegInfConstant(select.getFalseValue())) {
    strengthened.insert(select);
    return true;
  }
  if (!isa<FloatType>(getElementTypeOrSelf(v.getType())) || !analyze(v).isPlain())
    return false;
  negInfMasked.insert(v);
  return true;
}

/// Makes `v` 0 past the extent, through the casts, deferred factors and exp of -inf
/// it comes from.
bool StreamFusion::coverZero(Value v) {
  while (Operation *op = v.getDefiningOp()) {
    if (auto cast = dyn_cast<CastOp>(op);
        cast && isa<FloatType>(getElementTypeOrSelf(cast.getInput().getType()))) {
      v = cast.getInput();
      continue;
    }
    if (auto p = patterns.find(op); p != patterns.end() && p->second == Pattern::Defer) {
      v = op->getOperand(deferredOperand.lookup(op));
      continue;
    }
    if (auto select = dyn_cast<arith::SelectOp>(op);
        select && isStreamed(select.getCondition()) && isZeroConstant(select.getFalseValue())) {
      strengthened.insert(op);
      return true;
    }
    if (isa<math::ExpOp, math::Exp2Op>(op)) {
      Value x = op->getOperand(0);
      if (patterns.count(op))
        x = x.getDefiningOp<arith::SubFOp>().getLhs();
      return isStreamed(x) && coverNegInf(x);
    }
    return false;
  }
  return false;
}

/// Chooses, for every reduction of the loop, how its blocks ignore positions past the
/// extent, preferring a mask its input already has (a causal select) or one shared
/// with other reductions (the scores both max and exp read) to a select of its own.
void StreamFusion::decideMasks(const LoopPlan &loop) {
  strengthened.clear();
  negInfMasked.clear();
  directMasks.clear();
  droppable.clear();
  cleanEnd = {};
  for (unsigned r : loop.reductions) {
    if (auto reduce = dyn_cast<ReduceOp>(reductions[r])) {
      CombineKind kind = *reduce.getKind();
      bool covered = kind == CombineKind::sum   ? coverZero(reduce.getInput())
                     : kind == CombineKind::max ? coverNegInf(reduce.getInput())
                                                : false;
      if (!covered)
        directMasks.insert({r, 0});
      continue;
    }
    auto dot = cast<DotOp>(reductions[r]);
    // Both operands must be finite past the extent and one of them zero: a padded
    // score's exp may overflow, so a computed operand is masked.
    if (!isZeroPaddedLoad(dot.getA()) && !coverZero(dot.getA()))
      directMasks.insert({r, 0});
    if (!isZeroPaddedLoad(dot.getB()))
      directMasks.insert({r, 1});
  }
  // Blocks before every mask's first false position and the extent need no masks.
  cleanEnd = extent;
  for (Operation *op : strengthened) {
    Value start = condStart(cast<arith::SelectOp>(op).getCondition());
    if (!start)
      continue;
    droppable.insert(op);
    cleanEnd = outer.create<arith::MinSIOp>(loc, cleanEnd, start);
  }
}

SmallVector<Value> StreamFusion::emitFor(const LoopPlan &loop, Value lo, Value hi,
                                         ValueRange inits, bool clean) {
  Type i32 = outer.getI32Type();
  Value step = outer.create<arith::ConstantIntOp>(loc, i32, block);
  auto forOp = outer.create<scf::ForOp>(loc, lo, hi, step, inits);
  Block *bodyBlock = forOp.getBody();
  OpBuilder b = OpBuilder::atBlockEnd(bodyBlock);
  if (!bodyBlock->empty() && bodyBlock->back().hasTrait<OpTrait::IsTerminator>())
    b.setInsertionPoint(&bodyBlock->back());
  outer.setInsertionPoint(forOp);
  Iteration iteration;
  iteration.b = &b;
  iteration.kb = forOp.getInductionVar();
  iteration.clean = clean;
  it = &iteration;
  unsigned arg = 0;
  for (unsigned r : loop.reductions)
    iteration.accIn[r] = forOp.getRegionIterArgs()[arg++];
  for (Value row : loop.shiftRows)
    iteration.prev[row] = forOp.getRegionIterArgs()[arg++];
  // Loads first, in source order: their copies are issued ahead of the math that
  // waits on them, as a hand-written pipeline would.
  for (Operation &op : *body)
    if (auto load = dyn_cast<LoadOp>(op); load && forms.count(load.getResult()))
      blockOf(load.getResult());
  SmallVector<Value> yields;
  for (unsigned r : loop.reductions)
    yields.push_back(update(r));
  for (Operation *op : loop.stores) {
    auto store = cast<StoreOp>(op);
    Value value = blockOf(store.getValue());
    int64_t axis = streamAxis(store.getValue().getType());
    SmallVector<Value> offsets;
    for (auto [i, offset] : llvm::enumerate(store.getOffsets())) {
      Value o = running(offset);
      if ((int64_t)i == axis)
        o = b.create<arith::AddIOp>(loc, o, streamIndexOffset(o.getType()));
      offsets.push_back(o);
    }
    b.create<StoreOp>(loc, running(store.getDesc()), offsets, value);
  }
  for (Value row : loop.shiftRows)
    yields.push_back(rowRunning(row));
  if (!yields.empty())
    b.create<scf::YieldOp>(loc, yields);
  it = nullptr;
  outer.setInsertionPointAfter(forOp);
  moveLoopInvariantCode(cast<LoopLikeOpInterface>(forOp.getOperation()));
  return SmallVector<Value>(forOp.getResults().begin(), forOp.getResults().end());
}

LogicalResult StreamFusion::emitLoop(const LoopPlan &loop) {
  bounds.clear();
  SmallVector<Value> inits;
  for (unsigned r : loop.reductions)
    inits.push_back(initAccumulator(r));
  for (Value row : loop.shiftRows) {
    auto f = cast<FloatType>(getElementTypeOrSelf(row.getType()));
    inits.push_back(constant(
        outer, row.getType(),
        outer.getFloatAttr(f, APFloat::getInf(f.getFloatSemantics(), /*Negative=*/true))));
  }
  Value hi = extent;
  if (Value bound = loopBound(loop))
    hi = outer.create<arith::MinSIOp>(loc, hi, bound);
  decideMasks(loop);
  // Whole blocks before cleanEnd run without masks; the rest (the diagonal of causal
  // attention, the extent's last partial block) run masked in a second loop.
  Type i32 = outer.getI32Type();
  Value zero = outer.create<arith::ConstantIntOp>(loc, i32, 0);
  SmallVector<Value> results;
  if (strengthened.empty() && negInfMasked.empty() && directMasks.empty()) {
    results = emitFor(loop, zero, hi, inits, /*clean=*/true); // stores only: no masks
    return finish(loop, results);
  }
  Value step = outer.create<arith::ConstantIntOp>(loc, i32, block);
  Value clean = outer.create<arith::MaxSIOp>(
      loc, outer.create<arith::MinSIOp>(loc, cleanEnd, hi), zero);
  clean = outer.create<arith::MulIOp>(loc, outer.create<arith::DivSIOp>(loc, clean, step), step);
  results = emitFor(loop, zero, clean, inits, /*clean=*/true);
  results = emitFor(loop, clean, hi, results, /*clean=*/false);
  return finish(loop, results);
}

/// The final values of a loop's reductions, with their deferred rows applied.
LogicalResult StreamFusion::finish(const LoopPlan &loop, ArrayRef<Value> results) {

  for (auto [i, r] : llvm::enumerate(loop.reductions))
    finals[r] = results[i];
  // Deferred rows apply once, with their final values.
  for (unsigned r : loop.reductions) {
    Value v = finals[r];
    bool dot = isa<DotOp>(reductions[r]);
    for (const Factor &f : inputForm(r).factors) {
      if (f.kind != Factor::Div && f.kind != Factor::Mul)
        continue;
      Value row = evalFinal(f.row);
      if (auto type = dyn_cast<RankedTensorType>(v.getType()); type && row.getType() != type)
        row = expandRow(outer, row, type, dot ? type.getRank() - 1 : 0);
      v = f.kind == Factor::Div ? outer.create<arith::DivFOp>(loc, v, row).getResult()
                                : outer.create<arith::MulFOp>(loc, v, row).getResult();
    }
    if (auto d = dyn_cast<DotOp>(reductions[r]);
        d && !isZeroConstant(d.getAcc()) && !inputForm(r).isPlain())
      v = outer.create<arith::AddFOp>(loc, v, evalFinal(d.getAcc()));
    finals[r] = v;
  }
  for (unsigned r : loop.reductions)
    done.set(r);
  for (Operation *store : loop.stores)
    storesDone.insert(store);
  return success();
}

LogicalResult StreamFusion::run() {
  body = &func.getBody().front();
  if (failed(classify()))
    return failure();

  // Ops that do not depend on the stream move before the loops, ops that depend on its
  // reductions after them; streamed ops are only templates for the loop bodies.
  Operation *terminator = body->getTerminator();
  SmallVector<Operation *> pre, post, streamed;
  for (Operation &op : body->without_terminator()) {
    if (streamedOps.contains(&op))
      streamed.push_back(&op);
    else {
      llvm::BitVector d(reductions.size());
      forEachUsedValue(&op, [&](Value u) { d |= depsOf(u); });
      (d.none() ? pre : post).push_back(&op);
    }
  }
  for (Operation *op : pre)
    op->moveBefore(terminator);
  for (Operation *op : post)
    op->moveBefore(terminator);
  outer.setInsertionPoint(post.empty() ? terminator : post.front());
  loc = extentLoad.getLoc();

  done = llvm::BitVector(reductions.size());
  current = llvm::BitVector(reductions.size());
  {
    auto desc = extentLoad.getDesc().getDefiningOp<MakeDescOp>();
    int64_t axis = streamAxis(extentLoad.getType());
    if (availability(desc.getResult()) != Avail::Ready ||
        availability(extentLoad.getOffsets()[axis]) != Avail::Ready)
      return extentLoad.emitOpError("streamed load's extent depends on a streamed reduction");
    Value size = evalFinal(desc.getShape()[axis]);
    Value offset = evalFinal(extentLoad.getOffsets()[axis]);
    if (offset.getType() != size.getType())
      offset = outer.create<arith::ExtSIOp>(loc, size.getType(), offset);
    Value rest = outer.create<arith::SubIOp>(loc, size, offset);
    Value zero = outer.create<arith::ConstantIntOp>(loc, size.getType(), 0);
    rest = outer.create<arith::MaxSIOp>(loc, rest, zero);
    extent = outer.create<arith::TruncIOp>(loc, outer.getI32Type(), rest);
  }

  while (!done.all() || storesDone.size() < stores.size()) {
    LoopPlan loop;
    if (failed(plan(loop)) || failed(emitLoop(loop)))
      return failure();
  }

  for (auto [r, op] : llvm::enumerate(reductions))
    op->getResult(0).replaceAllUsesWith(finals[r]);
  for (Operation *op : llvm::reverse(streamed))
    op->erase();
  return success();
}

/// Q's [BM, D] when `func` is attention: a contraction over the streamed keys of values
/// derived from a product of a fixed-size Q with a key-streamed Kᵀ.
std::optional<std::pair<int64_t, int64_t>> attentionShape(FuncOp func) {
  std::optional<std::pair<int64_t, int64_t>> shape;
  func.walk([&](DotOp pv) {
    auto a = cast<RankedTensorType>(pv.getA().getType());
    if (a.getRank() != 2 || !a.isDynamicDim(1))
      return WalkResult::advance();
    // Walk P back to S = Q·Kᵀ through elementwise ops, casts, selects and broadcasts.
    SmallVector<Value> work{pv.getA()};
    DenseSet<Value> seen;
    while (!work.empty()) {
      Value v = work.pop_back_val();
      if (!seen.insert(v).second || !isStreamed(v))
        continue;
      Operation *op = v.getDefiningOp();
      if (auto qk = dyn_cast_if_present<DotOp>(op)) {
        auto q = cast<RankedTensorType>(qk.getA().getType());
        auto kt = cast<RankedTensorType>(qk.getB().getType());
        if (q.getRank() == 2 && q.hasStaticShape() && kt.isDynamicDim(1)) {
          shape = {q.getDimSize(0), q.getDimSize(1)};
          return WalkResult::interrupt();
        }
        continue;
      }
      if (op && (isElementwise(op) || isa<CastOp>(op)))
        llvm::append_range(work, op->getOperands());
    }
    return WalkResult::advance();
  });
  return shape;
}

struct KilnStreamFusionPass : mlir::kiln::impl::KilnStreamFusionBase<KilnStreamFusionPass> {
  using Base::Base;

  /// The schedule model's key block for an attention kernel on `chip` (and its
  /// pipeline depth, recorded when the kernel has none), or 0.
  int64_t scheduledBlock(FuncOp func) {
    auto target = ::kiln::schedule::lookupChip(chip);
    auto shape = attentionShape(func);
    if (!target || !shape)
      return 0;
    // A representative problem (64 heads x 4096): the ranking depends on it only
    // through the L2 term, which scales with n for every block alike.
    for (const auto &s : ::kiln::schedule::rankAttentionSchedules(*target, 64, 4096,
                                                                shape->second, false)) {
      if (s.blockM != shape->first || s.programsPerSM == 0)
        continue;
      if (!func.getNumStages())
        func.setNumStages(s.stages);
      // The model's occupancy assumes no producer warpgroup: a kernel that asks for one
      // keeps one program per multiprocessor.
      if (s.forced && !func.getMinProgramsPerSm() && !func.getWarpSpecialize())
        func.setMinProgramsPerSm(s.programsPerSM);
      if (s.warpSpecialized)
        func.setWarpSpecialize(true);
      return s.blockN;
    }
    return 0;
  }

  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](FuncOp func) {
      if (!firstStreamedOp(func))
        return WalkResult::advance();
      int64_t size = forceBlock ? forceBlock
                     : func.getStreamBlock() ? *func.getStreamBlock()
                     : block ? block : 0;
      if (!size && !chip.empty())
        size = scheduledBlock(func);
      if (!size)
        size = 64;
      if (!func.getStreamBlock())
        func.setStreamBlock(size);
      if (size < 1) {
        func.emitOpError("stream block must be positive, got ") << size;
        return WalkResult::interrupt();
      }
      StreamFusion fusion(func, size);
      return failed(fusion.run()) ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

LogicalResult mlir::kiln::checkStaticTiles(ModuleOp module) {
  Operation *op = firstStreamedOp(module);
  if (!op)
    return success();
  Value v = *llvm::find_if(op->getResults(), isStreamed);
  return op->emitOpError("produces the streamed tile ")
         << v.getType() << "; run kiln-stream-fusion first (kilnc does) to tile "
         << "the streamed axis into blocks";
}
