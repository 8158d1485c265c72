//===- KilnOps.cpp - verifiers, folders and custom syntax of kiln ops ------===//
#include "dialects/Kiln/KilnDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/FunctionImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::kiln;

/// `sum`, `max`, `min` or `prod` before the input, or nothing for a combiner region.
static ParseResult parseCombineKind(OpAsmParser &parser, CombineKindAttr &kind) {
  StringRef keyword;
  SMLoc loc = parser.getCurrentLocation();
  if (failed(parser.parseOptionalKeyword(&keyword)))
    return success();
  auto parsed = symbolizeCombineKind(keyword);
  if (!parsed)
    return parser.emitError(loc, "unknown combiner '")
           << keyword << "' (expected sum, max, min or prod)";
  kind = CombineKindAttr::get(parser.getContext(), *parsed);
  return success();
}

static void printCombineKind(OpAsmPrinter &p, Operation *, CombineKindAttr kind) {
  if (kind)
    p << stringifyCombineKind(kind.getValue());
}

#define GET_OP_CLASSES
#include "dialects/Kiln/KilnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

/// Shape of a tile, or the empty shape for a scalar.
static ArrayRef<int64_t> shapeOf(Type type) {
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return tensor.getShape();
  return {};
}

static Type elementOf(Type type) {
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return tensor.getElementType();
  return type;
}

static bool isCastableElement(Type type) { return isMemoryElementType(type); }

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "x" : "") + std::to_string(d);
  return s + "]";
}

//===----------------------------------------------------------------------===//
// FuncOp
//===----------------------------------------------------------------------===//

ParseResult FuncOp::parse(OpAsmParser &parser, OperationState &result) {
  StringAttr name;
  if (parser.parseSymbolName(name, SymbolTable::getSymbolAttrName(), result.attributes))
    return failure();
  SmallVector<OpAsmParser::Argument> args;
  SmallVector<Type> resultTypes;
  SmallVector<DictionaryAttr> resultAttrs;
  bool isVariadic = false;
  if (function_interface_impl::parseFunctionSignatureWithArguments(
          parser, /*allowVariadic=*/false, args, isVariadic, resultTypes, resultAttrs))
    return failure();
  Builder &builder = parser.getBuilder();
  SmallVector<Type> argTypes;
  SmallVector<Attribute> names;
  for (auto [index, arg] : llvm::enumerate(args)) {
    argTypes.push_back(arg.type);
    // Keep the source names: launchers, metadata and grid rules refer to them.
    StringRef ssa = arg.ssaName.name.drop_front();
    bool numeric = !ssa.empty() && llvm::all_of(ssa, [](char c) { return isdigit(c); });
    names.push_back(builder.getStringAttr(
        ssa.empty() || numeric ? "arg" + std::to_string(index) : ssa.str()));
  }
  result.addAttribute(getFunctionTypeAttrName(result.name),
                      TypeAttr::get(builder.getFunctionType(argTypes, resultTypes)));
  if (parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  if (!result.attributes.get(getParamNamesAttrName(result.name)))
    result.addAttribute(getParamNamesAttrName(result.name), builder.getArrayAttr(names));
  call_interface_impl::addArgAndResultAttrs(builder, result, args, resultAttrs,
                                            getArgAttrsAttrName(result.name),
                                            getResAttrsAttrName(result.name));
  Region *body = result.addRegion();
  SMLoc bodyLoc = parser.getCurrentLocation();
  if (parser.parseRegion(*body, args, /*enableNameShadowing=*/false))
    return failure();
  if (body->empty())
    return parser.emitError(bodyLoc, "kernel body cannot be empty");
  return success();
}

void FuncOp::print(OpAsmPrinter &p) {
  p << ' ';
  p.printSymbolName(getSymName());
  function_interface_impl::printFunctionSignature(p, *this, getArgumentTypes(),
                                                  /*isVariadic=*/false, getResultTypes());
  // Parameter names are printed as the block arguments' names; keep them out of the
  // attribute dictionary when they are exactly what the parser would derive.
  function_interface_impl::printFunctionAttributes(
      p, *this,
      {getFunctionTypeAttrName(), getArgAttrsAttrName(), getResAttrsAttrName(),
       getParamNamesAttrName()});
  p << ' ';
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false, /*printBlockTerminators=*/true);
}

void FuncOp::getAsmBlockArgumentNames(Region &region, OpAsmSetValueNameFn setNameFn) {
  if (&region != &getBody() || region.empty())
    return;
  for (auto [index, arg] : llvm::enumerate(region.front().getArguments()))
    setNameFn(arg, getParamName(index));
}

std::string FuncOp::getParamName(unsigned index) {
  if (auto names = getParamNamesAttr())
    if (index < names.size())
      if (auto str = dyn_cast<StringAttr>(names[index]))
        return str.str();
  return "arg" + std::to_string(index);
}

SmallVector<std::string> FuncOp::getParamNameList() {
  SmallVector<std::string> names;
  for (unsigned i = 0, e = getNumArguments(); i < e; ++i)
    names.push_back(getParamName(i));
  return names;
}

bool FuncOp::isConstexprParam(unsigned index) {
  return static_cast<bool>(getArgAttr(index, kConstexprAttrName));
}

/// Kernel and parameter names become C identifiers in generated launchers.
static bool isCIdentifier(StringRef name) {
  static const char *const keywords[] = {
      "auto", "break", "case", "char", "const", "continue", "default", "do", "double",
      "else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long",
      "register", "restrict", "return", "short", "signed", "sizeof", "static", "struct",
      "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "bool"};
  if (name.empty() || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
    return false;
  if (!llvm::all_of(name, [](char c) { return isalnum((unsigned char)c) || c == '_'; }))
    return false;
  // Leading double underscores and the launcher's own prefix are reserved.
  if (name.starts_with("__") || name.starts_with("kiln_"))
    return false;
  return llvm::none_of(keywords, [&](const char *k) { return name == k; });
}

LogicalResult FuncOp::verify() {
  if (!isCIdentifier(getSymName()))
    return emitOpError("kernel name '")
           << getSymName() << "' must be a C identifier (not a keyword, not starting "
           << "with '__' or 'kiln_'): launchers are generated from it";
  if (!getResultTypes().empty())
    return emitOpError("kernels return nothing; write results through memory");
  if (getBody().empty())
    return emitOpError("kernel must have a body");
  if (auto names = getParamNamesAttr()) {
    if (names.size() != getNumArguments())
      return emitOpError("has ") << names.size() << " parameter names for "
                                 << getNumArguments() << " parameters";
    llvm::StringSet<> seen;
    for (auto name : names.getAsValueRange<StringAttr>()) {
      if (!seen.insert(name).second)
        return emitOpError("parameter name '") << name << "' is used twice";
      if (!isCIdentifier(name))
        return emitOpError("parameter name '")
               << name << "' must be a C identifier (not a keyword, not starting with '__' "
               << "or 'kiln_'): launchers are generated from it";
    }
  }
  SmallVector<std::string> intParams;
  for (auto [index, type] : llvm::enumerate(getArgumentTypes())) {
    bool scalar = isa<IntegerType, FloatType>(type);
    if (!scalar && !isa<PtrType, DescType>(type))
      return emitOpError("parameter ")
             << index << " has type " << type
             << "; kernel parameters are pointers, descriptors, integers or floats";
    if (auto intType = dyn_cast<IntegerType>(type)) {
      if (!intType.isSignless() || (intType.getWidth() != 1 && intType.getWidth() != 8 &&
                                    intType.getWidth() != 16 && intType.getWidth() != 32 &&
                                    intType.getWidth() != 64))
        return emitOpError("integer parameter ")
               << index << " must be i1, i8, i16, i32 or i64, got " << type;
      intParams.push_back(getParamName(index));
    }
    if (auto floatType = dyn_cast<FloatType>(type))
      if (!isa<Float16Type, BFloat16Type, Float32Type, Float64Type>(floatType))
        return emitOpError("float parameter ")
               << index << " must be f16, bf16, f32 or f64, got " << type;
    if (Attribute attr = getArgAttr(index, kConstexprAttrName)) {
      if (!scalar)
        return emitOpError("parameter ")
               << index << " is marked kiln.constexpr but only scalars can be bound";
      if (!isa<UnitAttr>(attr))
        return emitOpError("kiln.constexpr is a unit attribute");
    }
  }
  if (auto threads = getNumThreads()) {
    // Warps (and AMD wave32) are 32 threads; 1024 is every vendor's block limit.
    if (*threads <= 0 || *threads > 1024 || *threads % 32 != 0)
      return emitOpError("num_threads must be a multiple of 32 between 32 and 1024, got ")
             << *threads;
  }
  if (auto stages = getNumStages(); stages && (*stages < 1 || *stages > 8))
    return emitOpError("num_stages must be between 1 and 8, got ") << *stages;
  if (auto block = getStreamBlock(); block && (*block < 1 || *block > 65536))
    return emitOpError("stream_block must be between 1 and 65536, got ") << *block;
  if (auto n = getMinProgramsPerSm(); n && (*n < 1 || *n > 32))
    return emitOpError("min_programs_per_sm must be between 1 and 32, got ") << *n;
  // Hopper's limit; above 8 (the portable size) launchers opt in.
  if (auto n = getCluster(); n && (*n < 1 || *n > 16))
    return emitOpError("cluster must be between 1 and 16 thread blocks, got ") << *n;
  if (auto grid = getGridAttr()) {
    if (grid.empty() || grid.size() > 3)
      return emitOpError("grid has ") << grid.size() << " entries; expected 1 to 3";
    for (auto expr : grid.getAsValueRange<StringAttr>()) {
      std::string error = checkGridExpr(expr, intParams);
      if (!error.empty())
        return emitOpError("invalid grid expression: ") << error;
    }
  }
  return success();
}

/// A tile whose encoding is a kiln layout must have exactly as many elements as the
/// layout maps; checked once per kernel so every op producing such a tile is covered.
LogicalResult FuncOp::verifyRegions() {
  WalkResult result = getBody().walk([&](Operation *op) {
    for (Value v : op->getResults()) {
      auto tile = dyn_cast<RankedTensorType>(v.getType());
      auto layout = tile ? dyn_cast_if_present<LayoutAttr>(tile.getEncoding()) : nullptr;
      if (layout && layout.getSize() != tile.getNumElements()) {
        op->emitOpError("result layout ")
            << layout << " maps " << layout.getSize() << " elements but the tile has "
            << tile.getNumElements();
        return WalkResult::interrupt();
      }
    }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

//===----------------------------------------------------------------------===//
// Tile construction and shape manipulation
//===----------------------------------------------------------------------===//

LogicalResult IotaOp::verify() {
  auto type = getResult().getType();
  if (type.getRank() != 1)
    return emitOpError("result must be a 1-D tile, got rank ") << type.getRank();
  unsigned width = type.getElementType().getIntOrFloatBitWidth();
  if (width < 64 && !type.isDynamicDim(0) && type.getDimSize(0) - 1 > (int64_t(1) << (width - 1)) - 1)
    return emitOpError("tile of ") << type.getDimSize(0) << " elements overflows "
                                   << type.getElementType();
  return success();
}

OpFoldResult SplatOp::fold(FoldAdaptor adaptor) {
  if (!getType().hasStaticShape())
    return {};
  if (auto value = dyn_cast_if_present<TypedAttr>(adaptor.getInput()))
    if (isa<IntegerAttr, FloatAttr>(value))
      return SplatElementsAttr::get(getType(), value);
  return {};
}

LogicalResult BroadcastOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  if (in.getRank() != out.getRank())
    return emitOpError("input rank ") << in.getRank() << " differs from result rank "
                                      << out.getRank() << "; use kiln.expand_dims first";
  for (int64_t i = 0; i < in.getRank(); ++i)
    if (in.getDimSize(i) != out.getDimSize(i) && in.getDimSize(i) != 1)
      return emitOpError("dimension ") << i << " of size " << in.getDimSize(i)
                                       << " cannot broadcast to " << out.getDimSize(i);
  return success();
}

OpFoldResult BroadcastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto splat = dyn_cast_if_present<SplatElementsAttr>(adaptor.getInput());
  if (splat && getType().hasStaticShape())
    return splat.resizeSplat(getType());
  return {};
}

LogicalResult ExpandDimsOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  int64_t axis = getAxis();
  if (axis < 0 || axis > in.getRank())
    return emitOpError("axis ") << axis << " out of range [0, " << in.getRank() << "]";
  SmallVector<int64_t> expected(in.getShape());
  expected.insert(expected.begin() + axis, 1);
  if (out.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("result shape ") << shapeString(out.getShape()) << " should be "
                                        << shapeString(expected);
  return success();
}

LogicalResult ReshapeOp::verify() {
  if (getInput().getType().getNumElements() != getResult().getType().getNumElements())
    return emitOpError("cannot reshape ")
           << getInput().getType().getNumElements() << " elements into "
           << getResult().getType().getNumElements();
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  auto splat = dyn_cast_if_present<SplatElementsAttr>(adaptor.getInput());
  if (splat && getType().hasStaticShape())
    return splat.resizeSplat(getType());
  return {};
}

LogicalResult TransposeOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  ArrayRef<int32_t> order = getOrder();
  if ((int64_t)order.size() != in.getRank())
    return emitOpError("order has ") << order.size() << " entries for a rank-"
                                     << in.getRank() << " tile";
  SmallVector<bool> seen(order.size(), false);
  for (int32_t d : order) {
    if (d < 0 || d >= (int32_t)order.size() || seen[d])
      return emitOpError("order must be a permutation of 0..") << order.size() - 1;
    seen[d] = true;
  }
  if (out.getRank() != in.getRank())
    return emitOpError("result rank differs from input rank");
  for (auto [i, d] : llvm::enumerate(order))
    if (out.getDimSize(i) != in.getDimSize(d))
      return emitOpError("result dimension ") << i << " should be " << in.getDimSize(d);
  return success();
}

LogicalResult CastOp::verify() {
  Type in = getInput().getType(), out = getResult().getType();
  if (isa<RankedTensorType>(in) != isa<RankedTensorType>(out) ||
      shapeOf(in) != shapeOf(out))
    return emitOpError("input and result must both be scalars or tiles of one shape");
  Type inElem = elementOf(in), outElem = elementOf(out);
  if (!isCastableElement(inElem) || !isCastableElement(outElem))
    return emitOpError("cannot cast ")
           << inElem << " to " << outElem
           << "; supported: integers of 1-8, 16, 32 or 64 bits, f8E4M3FN, f8E5M2, f16, bf16, f32, f64";
  if (getIsUnsigned() && !isa<IntegerType>(inElem) && !isa<IntegerType>(outElem))
    return emitOpError("'unsigned' needs an integer on one side");
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

LogicalResult MakeDescOp::verify() {
  DescType desc = getResult().getType();
  if (getBase().getType().getPointee() != desc.getElementType())
    return emitOpError("pointer to ") << getBase().getType().getPointee()
                                      << " cannot describe elements of "
                                      << desc.getElementType();
  if (getShape().size() != desc.getRank() || getStrides().size() != desc.getRank())
    return emitOpError("a rank-") << desc.getRank() << " descriptor needs "
                                  << desc.getRank() << " sizes and strides, got "
                                  << getShape().size() << " and " << getStrides().size();
  return success();
}

/// Checks offsets and the tile of a block access through a descriptor.
static LogicalResult verifyBlockAccess(Operation *op, DescType desc, ValueRange offsets,
                                       RankedTensorType tile) {
  if (offsets.size() != desc.getRank())
    return op->emitOpError("needs ") << desc.getRank() << " offsets for a rank-"
                                     << desc.getRank() << " descriptor, got "
                                     << offsets.size();
  if (tile.getRank() != desc.getRank())
    return op->emitOpError("tile rank ") << tile.getRank() << " differs from descriptor rank "
                                         << desc.getRank();
  if (tile.getElementType() != desc.getElementType())
    return op->emitOpError("tile element type ") << tile.getElementType()
                                                 << " differs from descriptor element type "
                                                 << desc.getElementType();
  return success();
}

LogicalResult LoadOp::verify() {
  if (failed(verifyBlockAccess(*this, getDesc().getType(), getOffsets(),
                               getResult().getType())))
    return failure();
  if (auto padding = getPaddingAttr()) {
    if (!isa<IntegerAttr, FloatAttr>(padding))
      return emitOpError("padding must be an integer or float constant");
    if (padding.getType() != getDesc().getType().getElementType())
      return emitOpError("padding of type ") << padding.getType()
                                             << " does not match element type "
                                             << getDesc().getType().getElementType();
  }
  return success();
}

LogicalResult StoreOp::verify() {
  return verifyBlockAccess(*this, getDesc().getType(), getOffsets(),
                           cast<RankedTensorType>(getValue().getType()));
}

LogicalResult AddPtrOp::verify() {
  Type ptr = getPtr().getType(), off = getOffset().getType(), res = getResult().getType();
  Type pointee = cast<PtrType>(elementOf(ptr)).getPointee();
  if (cast<PtrType>(elementOf(res)).getPointee() != pointee)
    return emitOpError("result must point to ") << pointee;
  bool ptrTile = isa<RankedTensorType>(ptr), offTile = isa<RankedTensorType>(off);
  if (ptrTile && offTile && shapeOf(ptr) != shapeOf(off))
    return emitOpError("pointer tile ") << shapeString(shapeOf(ptr))
                                        << " and offset tile " << shapeString(shapeOf(off))
                                        << " differ in shape";
  ArrayRef<int64_t> expected = ptrTile ? shapeOf(ptr) : shapeOf(off);
  if (isa<RankedTensorType>(res) != (ptrTile || offTile) || shapeOf(res) != expected)
    return emitOpError("result shape should be ") << shapeString(expected);
  // Packed elements have no byte address of their own.
  if (getElementBitWidth(pointee) % 8 != 0)
    return emitOpError("pointers to sub-byte ")
           << pointee << " cannot be advanced; address packed elements through a descriptor";
  return success();
}

/// Checks that an optional mask has the shape of `ptrs`.
static LogicalResult verifyMask(Operation *op, Value mask, Type ptrs) {
  if (mask && isa<RankedTensorType>(mask.getType()) != isa<RankedTensorType>(ptrs))
    return op->emitOpError("mask must be a tile exactly when the pointers are");
  if (mask && shapeOf(mask.getType()) != shapeOf(ptrs))
    return op->emitOpError("mask shape ") << shapeString(shapeOf(mask.getType()))
                                          << " differs from pointer shape "
                                          << shapeString(shapeOf(ptrs));
  return success();
}

LogicalResult GatherOp::verify() {
  auto ptrs = getPtrs().getType();
  auto result = getResult().getType();
  Type pointee = cast<PtrType>(ptrs.getElementType()).getPointee();
  if (result.getShape() != ptrs.getShape() || result.getElementType() != pointee)
    return emitOpError("result should be a ") << shapeString(ptrs.getShape()) << " tile of "
                                              << pointee;
  if (failed(verifyMask(*this, getMask(), ptrs)))
    return failure();
  if (getOther() && getOther().getType() != result)
    return emitOpError("'other' must have the result type ") << result;
  if (getOther() && !getMask())
    return emitOpError("'other' needs a mask");
  return success();
}

LogicalResult ScatterOp::verify() {
  auto ptrs = getPtrs().getType();
  auto value = cast<RankedTensorType>(getValue().getType());
  Type pointee = cast<PtrType>(ptrs.getElementType()).getPointee();
  if (value.getShape() != ptrs.getShape() || value.getElementType() != pointee)
    return emitOpError("value should be a ") << shapeString(ptrs.getShape()) << " tile of "
                                             << pointee;
  return verifyMask(*this, getMask(), ptrs);
}

LogicalResult AtomicAddOp::verify() {
  Type ptrs = getPtrs().getType(), value = getValue().getType();
  Type pointee = cast<PtrType>(elementOf(ptrs)).getPointee();
  if (isa<RankedTensorType>(ptrs) != isa<RankedTensorType>(value) ||
      shapeOf(ptrs) != shapeOf(value) || elementOf(value) != pointee)
    return emitOpError("value must be a ")
           << (isa<RankedTensorType>(ptrs) ? "tile " + shapeString(shapeOf(ptrs)) + " of "
                                           : std::string("scalar "))
           << pointee;
  if (!pointee.isF32() && !pointee.isF16() && !pointee.isBF16() && !pointee.isInteger(32) &&
      !pointee.isInteger(64))
    return emitOpError("atomic add supports f32, f16, bf16, i32 and i64, got ") << pointee;
  if (getResult().getType() != value)
    return emitOpError("result must have the value's type ") << value;
  return verifyMask(*this, getMask(), ptrs);
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

LogicalResult DotOp::verify() {
  auto a = cast<RankedTensorType>(getA().getType());
  auto b = cast<RankedTensorType>(getB().getType());
  auto c = cast<RankedTensorType>(getAcc().getType());
  int64_t rank = a.getRank();
  if ((rank != 2 && rank != 3) || b.getRank() != rank || c.getRank() != rank)
    return emitOpError("operands must all be 2-D, or all 3-D (batched)");
  if (rank == 3 && (a.getDimSize(0) != b.getDimSize(0) || a.getDimSize(0) != c.getDimSize(0)))
    return emitOpError("batch sizes differ");
  int64_t m = a.getDimSize(rank - 2), k = a.getDimSize(rank - 1);
  int64_t kb = b.getDimSize(rank - 2), n = b.getDimSize(rank - 1);
  if (k != kb)
    return emitOpError("K of a (") << k << ") differs from K of b (" << kb << ")";
  if (c.getDimSize(rank - 2) != m || c.getDimSize(rank - 1) != n)
    return emitOpError("accumulator shape ") << shapeString(c.getShape()) << " should be "
                                             << m << "x" << n;
  Type ea = a.getElementType(), eb = b.getElementType(), ec = c.getElementType();
  if (ea != eb)
    return emitOpError("a and b element types differ: ") << ea << " vs " << eb;
  if (auto intType = dyn_cast<IntegerType>(ea)) {
    // Signed products; i1 has no agreed sign, so it is not a dot input.
    if (intType.getWidth() < 2 || intType.getWidth() > 8 || !ec.isInteger(32))
      return emitOpError("integer dot needs signed inputs of 2 to 8 bits and an i32 accumulator");
  } else if (isa<FloatType>(ea)) {
    bool ok = ec.isF32() || (ec.isF16() && ea.isF16()) || (ec.isF64() && ea.isF64());
    if (!ok)
      return emitOpError("accumulator ") << ec << " cannot accumulate " << ea
                                         << " products; use f32";
  } else {
    return emitOpError("unsupported element type ") << ea;
  }
  return success();
}

/// Shared verifier of reduce and scan: the axis, and exactly one combiner.
static LogicalResult verifyCombine(Operation *op, RankedTensorType input, int32_t axis,
                                   std::optional<CombineKind> kind, Region &combiner) {
  if (axis < 0 || axis >= input.getRank())
    return op->emitOpError("axis ") << axis << " out of range for a rank-"
                                    << input.getRank() << " tile";
  Type elem = input.getElementType();
  // Reductions and scans combine numbers; pointers are combined as integer offsets.
  if (!isa<IntegerType, FloatType>(elem))
    return op->emitOpError("combines integer or float elements, got ") << elem;
  if (kind.has_value() == !combiner.empty())
    return op->emitOpError("needs exactly one of a built-in kind or a combiner region");
  if (kind) {
    if (isa<Float8E4M3FNType, Float8E5M2Type>(elem))
      return op->emitOpError("8-bit floats are a storage format: kiln.cast the tile to "
                             "f16, bf16 or f32 before combining");
    return success();
  }
  if (!combiner.hasOneBlock())
    return op->emitOpError("combiner must have one block");
  Block &block = combiner.front();
  if (block.getNumArguments() != 2 || block.getArgument(0).getType() != elem ||
      block.getArgument(1).getType() != elem)
    return op->emitOpError("combiner must take two ") << elem << " arguments";
  auto yield = dyn_cast_if_present<YieldOp>(block.empty() ? nullptr : &block.back());
  if (!yield || yield.getValues().size() != 1 || yield.getValues()[0].getType() != elem)
    return op->emitOpError("combiner must yield one ") << elem;
  for (Operation &inner : block) {
    if (&inner != yield.getOperation() && !isPure(&inner))
      return inner.emitOpError("is not allowed in a combiner: combiners must be pure");
    // Combiners are applied to element pairs far from where they are written, so they
    // may only read their two arguments and what they compute themselves.
    for (Value v : inner.getOperands())
      if (!combiner.isAncestor(v.getParentRegion()))
        return inner.emitOpError("uses a value from outside the combiner; combiners may "
                                 "only use their two arguments");
  }
  return success();
}

LogicalResult ReduceOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  if (failed(verifyCombine(*this, input, getAxis(), getKind(), getCombiner())))
    return failure();
  Type expected = input.getElementType();
  if (input.getRank() > 1) {
    SmallVector<int64_t> shape(input.getShape());
    shape.erase(shape.begin() + getAxis());
    expected = RankedTensorType::get(shape, input.getElementType());
  }
  if (getResult().getType() != expected)
    return emitOpError("result type should be ") << expected;
  return success();
}

LogicalResult ScanOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  if (failed(verifyCombine(*this, input, getAxis(), getKind(), getCombiner())))
    return failure();
  if (getResult().getType() != input)
    return emitOpError("result type should be ") << input;
  return success();
}

/// Shared builder of reduce and scan with a built-in combiner.
static void buildCombine(OpBuilder &builder, OperationState &state, StringAttr axisName,
                         StringAttr kindName, Type resultType, Value input, int32_t axis,
                         CombineKind kind) {
  state.addOperands(input);
  state.addAttribute(axisName, builder.getI32IntegerAttr(axis));
  state.addAttribute(kindName, CombineKindAttr::get(builder.getContext(), kind));
  state.addRegion();
  state.addTypes(resultType);
}

void ReduceOp::build(OpBuilder &builder, OperationState &state, Type resultType, Value input,
                     int32_t axis, CombineKind kind) {
  buildCombine(builder, state, getAxisAttrName(state.name), getKindAttrName(state.name),
               resultType, input, axis, kind);
}

void ScanOp::build(OpBuilder &builder, OperationState &state, Type resultType, Value input,
                   int32_t axis, CombineKind kind) {
  buildCombine(builder, state, getAxisAttrName(state.name), getKindAttrName(state.name),
               resultType, input, axis, kind);
}
