//===- KilnDialect.h - the kiln tile dialect: types and ops ----------------===//
#ifndef KILN_DIALECTS_KILN_KILNDIALECT_H
#define KILN_DIALECTS_KILN_KILNDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/Kiln/KilnDialect.h.inc"
#include "dialects/Kiln/KilnEnums.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/Kiln/KilnTypes.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Kiln/KilnAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialects/Kiln/KilnOps.h.inc"

namespace mlir::kiln {

/// True for element types a pointer, descriptor or tile of memory may hold: integers of
/// 1-8, 16, 32 or 64 bits and the float types Kiln lowers (f8E4M3FN, f8E5M2, f16, bf16,
/// f32, f64).
bool isMemoryElementType(Type type);

/// Bits of storage one element of `type` takes (i4 -> 4, bf16 -> 16, ptr -> 64).
unsigned getElementBitWidth(Type type);

/// Name of the unit attribute that binds a scalar kernel parameter at compile time.
inline constexpr llvm::StringLiteral kConstexprAttrName = "kiln.constexpr";
/// Name of the string attribute that names a kernel parameter in launchers and metadata.
inline constexpr llvm::StringLiteral kParamNameAttrName = "kiln.name";

/// Parses one grid expression over the named scalar parameters (see kiln.func).
/// Returns an error message, or "" when `expr` is well formed.
std::string checkGridExpr(llvm::StringRef expr, llvm::ArrayRef<std::string> params);

/// Evaluates a well-formed grid expression with the given parameter values. Division by
/// zero yields 0 rather than trapping.
int64_t evalGridExpr(llvm::StringRef expr, llvm::ArrayRef<std::string> params,
                     llvm::ArrayRef<int64_t> values);

/// Replaces the parameter `name` in a grid expression by the literal `value`.
std::string substituteGridParam(llvm::StringRef expr, llvm::StringRef name,
                                llvm::StringRef value);

/// Translates a well-formed grid expression to a C expression over the parameter names.
std::string gridExprToC(llvm::StringRef expr);

} // namespace mlir::kiln

#endif
