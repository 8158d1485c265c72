//===- kiln-layout.cpp - Command-line calculator for the layout algebra ---===//
//
// Evaluates, transforms and draws layouts in CuTe's notation, e.g.
//   kiln-layout composition '(4,8):(8,1)' '(4,2):(2,1)'
// `batch` reads one operation per line from stdin (used by the pycute
// differential test so that thousands of cases share one process).
//
//===----------------------------------------------------------------------===//

#include "kiln/Layout/Analysis.h"
#include "kiln/Layout/Atoms.h"
#include "kiln/Layout/Draw.h"
#include "kiln/Layout/Layout.h"
#include "kiln/Layout/Swizzle.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using namespace kiln::layout;

namespace {

const char *kUsage = R"(usage: kiln-layout COMMAND ARGS...

Layouts use CuTe's notation without spaces: (4,8):(1,4)  ((2,4),8):((1,2),8)  8:1
A swizzled layout is written Sw<B,M,S>oL, e.g. Sw<3,3,3>o(8,64):(64,1).
A tiler B is a layout, or a tuple of layouts/integers/_ applied by mode: (4:1,_).

Commands (each prints one line):
  coalesce L            filter L              size L            cosize L
  composition A B       complement L N        right_inverse L   left_inverse L
  logical_divide A B    zipped_divide A B     tiled_divide A B
  logical_product A B   zipped_product A B    tiled_product A B
  blocked_product A B   raked_product A B
  eval L I              L at index I, or at a coordinate such as (1,2)
Analyses:
  bank_conflicts SMEM TV V BITS   wavefronts when threads access the tile stored
                        as SMEM (may be swizzled) through the thread-value
                        layout TV, V contiguous BITS-bit elements per access
  atoms                 the MMA atom tables (name, operand, TV layout)
Pictures:
  draw L [--svg FILE]               grid of offsets (rank 1 or 2)
  draw TV --tv MxN [--svg FILE]     which (thread,value) holds each element of
                                    an MxN column-major tile
Batch:
  batch                 read "COMMAND ARGS..." lines from stdin, print one
                        result or "error: MESSAGE" per line

Composition follows current CuTe (pycute 4.2; see docs/layouts.md).
Invalid input prints an error and exits with status 1.
)";

Result<Layout> layoutArg(const std::string &s) { return parseLayout(s); }

Result<int64_t> intArg(const std::string &s) {
  auto t = parseIntTuple(s);
  if (!t || !t->isInt())
    return Result<int64_t>::failure("expected an integer, got '" + s + "'");
  return t->value();
}

/// Runs one text command; returns the one-line result or an error.
Result<std::string> runCommand(const std::vector<std::string> &args) {
  using R = Result<std::string>;
  if (args.empty())
    return R::failure("missing command (try --help)");
  const std::string &cmd = args[0];
  auto need = [&](size_t n) -> std::string {
    if (args.size() != n + 1)
      return cmd + " takes " + std::to_string(n) + " argument" + (n == 1 ? "" : "s") +
             ", got " + std::to_string(args.size() - 1);
    return "";
  };
  auto wrap = [](const Result<Layout> &r) -> R {
    if (!r)
      return R::failure(r.error());
    return r->str();
  };

  if (cmd == "coalesce" || cmd == "filter" || cmd == "right_inverse" ||
      cmd == "left_inverse" || cmd == "size" || cmd == "cosize") {
    if (auto e = need(1); !e.empty())
      return R::failure(e);
    if (cmd == "size" || cmd == "cosize") {
      auto s = parseSwizzledLayout(args[1]);
      if (!s)
        return R::failure(s.error());
      return std::to_string(cmd == "size" ? s->size() : s->cosize());
    }
    auto l = layoutArg(args[1]);
    if (!l)
      return R::failure(l.error());
    if (cmd == "coalesce")
      return coalesce(*l).str();
    if (cmd == "filter")
      return filter(*l).str();
    if (cmd == "right_inverse")
      return rightInverse(*l).str();
    return wrap(leftInverse(*l));
  }
  if (cmd == "complement") {
    if (auto e = need(2); !e.empty())
      return R::failure(e);
    auto l = layoutArg(args[1]);
    if (!l)
      return R::failure(l.error());
    auto n = intArg(args[2]);
    if (!n)
      return R::failure(n.error());
    return wrap(complement(*l, *n));
  }
  if (cmd == "eval") {
    if (auto e = need(2); !e.empty())
      return R::failure(e);
    auto l = parseSwizzledLayout(args[1]);
    if (!l)
      return R::failure(l.error());
    auto c = parseIntTuple(args[2]);
    if (!c)
      return R::failure(c.error());
    if (c->isInt() && (c->value() < 0 || c->value() >= l->size()))
      return R::failure("index " + c->str() + " is outside 0.." +
                        std::to_string(l->size() - 1));
    auto v = l->layout.evaluate(*c);
    if (!v)
      return R::failure(v.error());
    return std::to_string(l->swizzle(l->offset + *v));
  }
  if (cmd == "bank_conflicts") {
    if (auto e = need(4); !e.empty())
      return R::failure(e);
    auto smem = parseSwizzledLayout(args[1]);
    if (!smem)
      return R::failure(smem.error());
    auto tvl = layoutArg(args[2]);
    if (!tvl)
      return R::failure(tvl.error());
    auto v = intArg(args[3]), bits = intArg(args[4]);
    if (!v || !bits)
      return R::failure("bank_conflicts: V and BITS must be integers");
    auto r = analyzeBankConflicts(*smem, SharedMemoryAccess{*tvl, *v, int(*bits)});
    if (!r)
      return R::failure(r.error());
    char factor[32];
    std::snprintf(factor, sizeof factor, "%.2f", r->conflictFactor());
    return std::to_string(r->wavefronts) + " wavefronts, ideal " + std::to_string(r->ideal) +
           " (" + factor + "-way)";
  }
  if (cmd == "atoms") {
    if (auto e = need(0); !e.empty())
      return R::failure(e);
    std::string out;
    for (const MmaAtom &a : allMmaAtoms()) {
      out += a.name + " A " + a.a.str() + "\n";
      out += a.name + " B " + a.b.str() + "\n";
      out += a.name + " C " + a.c.str() + "\n";
    }
    CopyAtom ld = nvidiaLdmatrixX4();
    out += ld.name + " src " + ld.source.str() + "\n";
    out += ld.name + " dst " + ld.destination.str();
    return out;
  }
  static const char *binary[] = {"composition",     "logical_divide",  "zipped_divide",
                                 "tiled_divide",    "logical_product", "zipped_product",
                                 "tiled_product",   "blocked_product", "raked_product"};
  for (const char *op : binary) {
    if (cmd != op)
      continue;
    if (auto e = need(2); !e.empty())
      return R::failure(e);
    if (cmd == "composition" && args[1].rfind("Sw<", 0) == 0) {
      auto s = parseSwizzledLayout(args[1]);
      auto b = layoutArg(args[2]);
      if (!s)
        return R::failure(s.error());
      if (!b)
        return R::failure(b.error());
      auto r = composition(*s, *b);
      if (!r)
        return R::failure(r.error());
      return r->str();
    }
    auto a = layoutArg(args[1]);
    if (!a)
      return R::failure(a.error());
    if (cmd == "blocked_product" || cmd == "raked_product") {
      auto b = layoutArg(args[2]);
      if (!b)
        return R::failure(b.error());
      return wrap(cmd == "blocked_product" ? blockedProduct(*a, *b)
                                           : rakedProduct(*a, *b));
    }
    auto b = parseTiler(args[2]);
    if (!b)
      return R::failure(b.error());
    if (cmd == "composition")
      return wrap(composition(*a, *b));
    if (cmd == "logical_divide")
      return wrap(logicalDivide(*a, *b));
    if (cmd == "zipped_divide")
      return wrap(zippedDivide(*a, *b));
    if (cmd == "tiled_divide")
      return wrap(tiledDivide(*a, *b));
    if (cmd == "logical_product")
      return wrap(logicalProduct(*a, *b));
    if (cmd == "zipped_product")
      return wrap(zippedProduct(*a, *b));
    return wrap(tiledProduct(*a, *b));
  }
  return R::failure("unknown command '" + cmd + "' (try --help)");
}

int fail(const std::string &message) {
  std::cerr << "kiln-layout: error: " << message << "\n";
  return 1;
}

int runDraw(const std::vector<std::string> &args) {
  std::string layoutText, svgFile, tvSize;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--svg" && i + 1 < args.size())
      svgFile = args[++i];
    else if (args[i] == "--tv" && i + 1 < args.size())
      tvSize = args[++i];
    else if (layoutText.empty())
      layoutText = args[i];
    else
      return fail("draw: unexpected argument '" + args[i] + "'");
  }
  if (layoutText.empty())
    return fail("draw: missing layout");
  Result<std::string> text = Result<std::string>::failure("");
  Result<std::string> svg = Result<std::string>::failure("");
  if (!tvSize.empty()) {
    size_t x = tvSize.find('x');
    auto m = intArg(tvSize.substr(0, x));
    auto n = intArg(x == std::string::npos ? "" : tvSize.substr(x + 1));
    if (!m || !n)
      return fail("draw: --tv expects MxN, e.g. 16x8");
    auto tv = layoutArg(layoutText);
    if (!tv)
      return fail(tv.error());
    text = drawThreadValue(*tv, *m, *n);
    svg = drawThreadValueSvg(*tv, *m, *n);
  } else {
    auto l = parseSwizzledLayout(layoutText);
    if (!l)
      return fail(l.error());
    text = drawGrid(*l);
    svg = drawGridSvg(*l);
  }
  if (!text)
    return fail(text.error());
  std::cout << *text;
  if (!svgFile.empty()) {
    std::ofstream out(svgFile);
    if (!out)
      return fail("cannot write " + svgFile);
    out << *svg;
  }
  return 0;
}

int runBatch() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream is(line);
    std::vector<std::string> args;
    for (std::string w; is >> w;)
      args.push_back(w);
    if (args.empty())
      continue;
    Result<std::string> r = runCommand(args);
    if (r)
      std::cout << *r << "\n";
    else
      std::cout << "error: " << r.error() << "\n";
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    args.push_back(a);
  }
  if (args.empty()) {
    std::cerr << kUsage;
    return 1;
  }
  if (args[0] == "draw")
    return runDraw(args);
  if (args[0] == "batch")
    return args.size() == 1 ? runBatch() : fail("batch takes no arguments");
  Result<std::string> r = runCommand(args);
  if (!r)
    return fail(r.error());
  std::cout << *r << "\n";
  return 0;
}
