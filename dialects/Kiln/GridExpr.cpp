//===- GridExpr.cpp - launch-grid expressions over kernel parameters -------===//
//
// A grid rule such as "cdiv(n, 128)" lets launchers compute the grid from the
// arguments. Grammar: expr := term (('+'|'-') term)*; term := atom (('*'|'/') atom)*;
// atom := int | name | ('cdiv'|'min'|'max') '(' expr ',' expr ')' | '(' expr ')'.
//
#include "dialects/Kiln/KilnDialect.h"

#include <cctype>

using namespace mlir;

namespace {

/// Walks an expression once; each visitor decides what a node means (check, evaluate,
/// or print as C), so the grammar lives in one place.
struct GridExprParser {
  llvm::StringRef text;
  size_t pos = 0;
  llvm::ArrayRef<std::string> params;
  std::string error;

  struct Value {
    int64_t num = 0;
    std::string c;
  };
  llvm::ArrayRef<int64_t> values;
  int depth = 0;

  /// Checked arithmetic: grid rules are user input, and overflow is undefined.
  bool arith(char op, int64_t a, int64_t b, int64_t &out) {
    bool overflow = false;
    switch (op) {
    case '+': overflow = __builtin_add_overflow(a, b, &out); break;
    case '-': overflow = __builtin_sub_overflow(a, b, &out); break;
    case '*': overflow = __builtin_mul_overflow(a, b, &out); break;
    default: out = divide(a, b); break;
    }
    return overflow ? fail("arithmetic overflows 64 bits") : true;
  }

  void skip() {
    while (pos < text.size() && std::isspace((unsigned char)text[pos]))
      ++pos;
  }
  bool fail(const std::string &msg) {
    if (error.empty())
      error = msg + " at offset " + std::to_string(pos) + " in '" + text.str() + "'";
    return false;
  }
  bool expect(char c) {
    skip();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return fail(std::string("expected '") + c + "'");
  }

  static int64_t divide(int64_t a, int64_t b) { return b == 0 ? 0 : a / b; }

  bool parseExpr(Value &out) {
    if (!parseTerm(out))
      return false;
    while (true) {
      skip();
      if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-'))
        return true;
      char op = text[pos++];
      Value rhs;
      if (!parseTerm(rhs))
        return false;
      if (!arith(op, out.num, rhs.num, out.num))
        return false;
      out.c = "(" + out.c + " " + op + " " + rhs.c + ")";
    }
  }
  bool parseTerm(Value &out) {
    if (!parseAtom(out))
      return false;
    while (true) {
      skip();
      if (pos >= text.size() || (text[pos] != '*' && text[pos] != '/'))
        return true;
      char op = text[pos++];
      Value rhs;
      if (!parseAtom(rhs))
        return false;
      if (!arith(op, out.num, rhs.num, out.num))
        return false;
      out.c = op == '*' ? "(" + out.c + " * " + rhs.c + ")"
                        : "kiln_div_(" + out.c + ", " + rhs.c + ")";
    }
  }
  bool parseAtom(Value &out) {
    // Nesting is bounded so that hostile input cannot exhaust the stack.
    if (++depth > 64)
      return fail("expression nested too deeply");
    bool ok = parseAtomBody(out);
    --depth;
    return ok;
  }
  bool parseAtomBody(Value &out) {
    skip();
    if (pos >= text.size())
      return fail("unexpected end of expression");
    char c = text[pos];
    if (std::isdigit((unsigned char)c)) {
      size_t start = pos;
      while (pos < text.size() && std::isdigit((unsigned char)text[pos]))
        ++pos;
      if (pos - start > 15)
        return fail("integer literal too large");
      out.num = std::stoll(text.substr(start, pos - start).str());
      out.c = "INT64_C(" + std::to_string(out.num) + ")";
      return true;
    }
    if (c == '(') {
      ++pos;
      if (!parseExpr(out) || !expect(')'))
        return false;
      return true;
    }
    if (std::isalpha((unsigned char)c) || c == '_') {
      size_t start = pos;
      while (pos < text.size() && (std::isalnum((unsigned char)text[pos]) || text[pos] == '_'))
        ++pos;
      llvm::StringRef name = text.slice(start, pos);
      skip();
      if (pos < text.size() && text[pos] == '(') {
        if (name != "cdiv" && name != "min" && name != "max")
          return fail("unknown function '" + name.str() + "' (expected cdiv, min or max)");
        ++pos;
        Value a, b;
        if (!parseExpr(a) || !expect(',') || !parseExpr(b) || !expect(')'))
          return false;
        if (name == "cdiv") {
          int64_t sum;
          if (!arith('+', a.num, b.num - 1, sum))
            return false;
          out.num = b.num == 0 ? 0 : sum / b.num;
          out.c = "kiln_cdiv_(" + a.c + ", " + b.c + ")";
        } else if (name == "min") {
          out.num = std::min(a.num, b.num);
          out.c = "kiln_min_(" + a.c + ", " + b.c + ")";
        } else {
          out.num = std::max(a.num, b.num);
          out.c = "kiln_max_(" + a.c + ", " + b.c + ")";
        }
        return true;
      }
      auto it = llvm::find(params, name.str());
      if (it == params.end())
        return fail("'" + name.str() + "' is not a scalar integer parameter");
      size_t index = it - params.begin();
      out.num = index < values.size() ? values[index] : 0;
      out.c = "(int64_t)(" + name.str() + ")";
      return true;
    }
    return fail(std::string("unexpected character '") + c + "'");
  }

  bool parseAll(Value &out) {
    if (!parseExpr(out))
      return false;
    skip();
    if (pos != text.size())
      return fail("unexpected trailing input");
    return true;
  }
};

} // namespace

std::string mlir::kiln::checkGridExpr(llvm::StringRef expr,
                                      llvm::ArrayRef<std::string> params) {
  GridExprParser parser{expr, 0, params};
  GridExprParser::Value value;
  if (!parser.parseAll(value))
    return parser.error;
  return "";
}

int64_t mlir::kiln::evalGridExpr(llvm::StringRef expr, llvm::ArrayRef<std::string> params,
                                 llvm::ArrayRef<int64_t> values) {
  GridExprParser parser{expr, 0, params};
  parser.values = values;
  GridExprParser::Value value;
  if (!parser.parseAll(value))
    return 0;
  return value.num;
}

std::string mlir::kiln::gridExprToC(llvm::StringRef expr) {
  // Names are printed, not resolved: any identifier is accepted here.
  GridExprParser parser{expr, 0, {}};
  GridExprParser::Value value;
  std::string out;
  // Resolve names leniently by collecting them first.
  llvm::SmallVector<std::string> names;
  for (size_t i = 0; i < expr.size();) {
    if (std::isalpha((unsigned char)expr[i]) || expr[i] == '_') {
      size_t j = i;
      while (j < expr.size() && (std::isalnum((unsigned char)expr[j]) || expr[j] == '_'))
        ++j;
      names.push_back(expr.slice(i, j).str());
      i = j;
    } else {
      ++i;
    }
  }
  parser.params = names;
  if (!parser.parseAll(value))
    return "0";
  return value.c;
}

std::string mlir::kiln::substituteGridParam(llvm::StringRef expr, llvm::StringRef name,
                                            llvm::StringRef value) {
  std::string out;
  for (size_t i = 0; i < expr.size();) {
    if (std::isalpha((unsigned char)expr[i]) || expr[i] == '_') {
      size_t j = i;
      while (j < expr.size() && (std::isalnum((unsigned char)expr[j]) || expr[j] == '_'))
        ++j;
      llvm::StringRef token = expr.slice(i, j);
      out += token == name ? "(" + value.str() + ")" : token.str();
      i = j;
    } else {
      out += expr[i++];
    }
  }
  return out;
}
