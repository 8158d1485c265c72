//===- ConformanceTest.cpp - The 18,000 CuTe reference cases --------------===//
//
// Runs data/cute-layout-algebra.jsonl (computed with pycute 4.2, current CuTe):
// every accepted case must give the same layout (or one with the same shape
// that is the same function) and the same first values; every `null` case
// must be rejected. $KILN_CONFORMANCE_FILE names another file; a missing file
// fails.
//
//===----------------------------------------------------------------------===//

#include "kiln/Layout/Layout.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace kiln::layout;

namespace {

/// The small JSON subset the file uses: objects, arrays, plain strings,
/// integers and null.
struct Json {
  enum Kind { Null, Int, String, Array, Object } kind = Null;
  int64_t integer = 0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;
};

class JsonReader {
public:
  explicit JsonReader(const std::string &s) : s_(s) {}
  std::optional<Json> read() {
    Json j;
    if (!value(j))
      return std::nullopt;
    skip();
    return pos_ == s_.size() ? std::optional<Json>(j) : std::nullopt;
  }

private:
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }
  bool str(std::string &out) {
    if (s_[pos_] != '"')
      return false;
    size_t end = s_.find('"', pos_ + 1);
    if (end == std::string::npos)
      return false;
    out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return true;
  }
  bool value(Json &j) {
    skip();
    if (pos_ >= s_.size())
      return false;
    char c = s_[pos_];
    if (c == '"') {
      j.kind = Json::String;
      return str(j.string);
    }
    if (c == 'n' && s_.compare(pos_, 4, "null") == 0) {
      pos_ += 4;
      j.kind = Json::Null;
      return true;
    }
    if (c == '[' || c == '{') {
      bool isObject = c == '{';
      j.kind = isObject ? Json::Object : Json::Array;
      ++pos_;
      skip();
      if (s_[pos_] == (isObject ? '}' : ']')) {
        ++pos_;
        return true;
      }
      while (true) {
        skip();
        std::string key;
        if (isObject) {
          if (!str(key))
            return false;
          skip();
          if (s_[pos_++] != ':')
            return false;
        }
        Json e;
        if (!value(e))
          return false;
        if (isObject)
          j.object[key] = e;
        else
          j.array.push_back(e);
        skip();
        char d = s_[pos_++];
        if (d == ',')
          continue;
        return d == (isObject ? '}' : ']');
      }
    }
    size_t start = pos_;
    if (c == '-')
      ++pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
    if (pos_ == start)
      return false;
    j.kind = Json::Int;
    j.integer = std::stoll(s_.substr(start, pos_ - start));
    return true;
  }
  const std::string &s_;
  size_t pos_ = 0;
};

std::string conformanceFile() {
  if (const char *env = std::getenv("KILN_CONFORMANCE_FILE"))
    return env;
  return std::string(KILN_SOURCE_DIR) + "/test/unit/Layout/data/cute-layout-algebra.jsonl";
}

Result<Layout> runOp(const std::string &op, const std::vector<Json> &args) {
  auto layoutArg = [&](size_t i) { return parseLayout(args.at(i).string); };
  auto a = layoutArg(0);
  if (!a)
    return a;
  if (op == "coalesce")
    return coalesce(*a);
  if (op == "right_inverse")
    return rightInverse(*a);
  if (op == "left_inverse")
    return leftInverse(*a);
  if (op == "complement")
    return complement(*a, args.at(1).integer);
  auto b = parseTiler(args.at(1).string);
  if (!b)
    return Result<Layout>::failure(b.error());
  if (op == "composition")
    return composition(*a, *b);
  if (op == "logical_divide")
    return logicalDivide(*a, *b);
  if (op == "zipped_divide")
    return zippedDivide(*a, *b);
  if (op == "tiled_divide")
    return tiledDivide(*a, *b);
  if (op == "logical_product")
    return logicalProduct(*a, *b);
  return Result<Layout>::failure("unknown op " + op);
}

TEST(Conformance, CuteLayoutAlgebraReferenceCases) {
  std::string path = conformanceFile();
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "cannot open the conformance file " << path
                         << " (set KILN_CONFORMANCE_FILE)";
  std::map<std::string, int> passed, total;
  int failures = 0;
  std::string line;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty())
      continue;
    auto json = JsonReader(line).read();
    ASSERT_TRUE(json && json->kind == Json::Object) << "bad JSON at line " << lineNo;
    const std::string &op = json->object["op"].string;
    const Json &expected = json->object["result"];
    ++total[op];
    Result<Layout> got = runOp(op, json->object["args"].array);
    std::string why;
    if (expected.kind == Json::Null) {
      if (got)
        why = "accepted (gave " + got->str() + ") but the reference rejects it";
    } else if (!got) {
      why = "rejected: " + got.error();
    } else {
      auto want = parseLayout(expected.string);
      if (!want)
        why = "cannot parse the expected result: " + want.error();
      else if (!(*got == *want) &&
               !(got->shape() == want->shape() && sameFunction(*got, *want)))
        why = "gave " + got->str();
      else {
        const auto &values = json->object["first_values"].array;
        for (size_t i = 0; i < values.size() && why.empty(); ++i)
          if ((*got)(int64_t(i)) != values[i].integer)
            why = "value at " + std::to_string(i) + " is " +
                  std::to_string((*got)(int64_t(i)));
      }
    }
    if (why.empty()) {
      ++passed[op];
    } else if (++failures <= 20) {
      ADD_FAILURE() << "line " << lineNo << ": " << line << "\n  " << why;
    }
  }
  int count = 0;
  for (auto &[op, n] : total) {
    count += n;
    std::cout << op << ": " << passed[op] << "/" << n << " conform\n";
  }
  EXPECT_EQ(failures, 0) << failures << " cases do not conform";
  EXPECT_EQ(count, 18000) << "the conformance file should hold 18,000 cases";
}

} // namespace
