//===- KilnDialect.cpp - kiln dialect registration, types and helpers ------===//
#include "dialects/Kiln/KilnDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "kiln/Layout/Swizzle.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::kiln;

#include "dialects/Kiln/KilnDialect.cpp.inc"
#include "dialects/Kiln/KilnEnums.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/Kiln/KilnTypes.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Kiln/KilnAttrs.cpp.inc"

void KilnDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/Kiln/KilnTypes.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/Kiln/KilnAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/Kiln/KilnOps.cpp.inc"
      >();
}

Operation *KilnDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                            Location loc) {
  return arith::ConstantOp::materialize(builder, value, type, loc);
}

bool mlir::kiln::isMemoryElementType(Type type) {
  // Packed widths stop at 8 bits (an element spans at most two bytes); wider integers
  // are whole bytes.
  if (auto intType = dyn_cast<IntegerType>(type)) {
    unsigned w = intType.getWidth();
    return intType.isSignless() && (w <= 8 || w == 16 || w == 32 || w == 64);
  }
  return isa<Float8E4M3FNType, Float8E5M2Type, Float16Type, BFloat16Type, Float32Type,
             Float64Type>(type);
}

unsigned mlir::kiln::getElementBitWidth(Type type) {
  if (isa<PtrType>(type))
    return 64;
  if (type.isIntOrFloat())
    return type.getIntOrFloatBitWidth();
  return 0;
}

LogicalResult PtrType::verify(function_ref<InFlightDiagnostic()> emitError, Type pointee) {
  if (!isMemoryElementType(pointee))
    return emitError() << "pointee must be a signless integer of 1-8, 16, 32 or 64 bits or one of "
                          "f8E4M3FN, f8E5M2, f16, bf16, f32, f64, got "
                       << pointee;
  return success();
}

LogicalResult DescType::verify(function_ref<InFlightDiagnostic()> emitError,
                               Type elementType, unsigned rank) {
  if (!isMemoryElementType(elementType))
    return emitError() << "descriptor element must be a signless integer of 1-8, 16, 32 or 64 bits or "
                          "one of f8E4M3FN, f8E5M2, f16, bf16, f32, f64, got "
                       << elementType;
  // Ranks beyond 5 have no use in the kernel families and no TMA support.
  if (rank < 1 || rank > 5)
    return emitError() << "descriptor rank must be between 1 and 5, got " << rank;
  return success();
}

//===----------------------------------------------------------------------===//
// LayoutAttr: parsed and checked by the layout library.
//===----------------------------------------------------------------------===//

Attribute LayoutAttr::parse(AsmParser &parser, Type) {
  std::string spec;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess() || parser.parseString(&spec) || parser.parseGreater())
    return {};
  auto layout = ::kiln::layout::parseSwizzledLayout(spec);
  if (!layout) {
    parser.emitError(loc, "invalid layout '") << spec << "': " << layout.error();
    return {};
  }
  // Store the canonical spelling so equal layouts are equal attributes; an identity
  // swizzle is left out.
  const auto &l = layout.value();
  std::string canonical = l.swizzle.isIdentity() && l.offset == 0 ? l.layout.str() : l.str();
  return LayoutAttr::get(parser.getContext(), canonical);
}

void LayoutAttr::print(AsmPrinter &printer) const {
  printer << "<\"" << getSpec() << "\">";
}

LogicalResult LayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef spec) {
  auto layout = ::kiln::layout::parseSwizzledLayout(std::string_view(spec.data(), spec.size()));
  if (!layout)
    return emitError() << "invalid layout '" << spec << "': " << layout.error();
  return success();
}

int64_t LayoutAttr::getSize() const {
  auto layout = ::kiln::layout::parseSwizzledLayout(
      std::string_view(getSpec().data(), getSpec().size()));
  return layout ? layout.value().size() : 0;
}
