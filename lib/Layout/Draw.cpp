//===- Draw.cpp - Text and SVG pictures of layouts ------------------------===//

#include "kiln/Layout/Draw.h"

#include <algorithm>
#include <sstream>
#include <vector>

namespace kiln::layout {

namespace {
/// Cell labels of a rows x cols picture, row-major.
struct Picture {
  int64_t rows = 0, cols = 0;
  std::vector<std::string> labels;
  std::vector<int64_t> colour; // a number to colour the cell by
};

std::string renderText(const std::string &title, const Picture &p) {
  size_t w = 1;
  for (const auto &l : p.labels)
    w = std::max(w, l.size());
  w = std::max(w, std::to_string(p.cols - 1).size());
  size_t rw = std::to_string(p.rows - 1).size();
  auto pad = [](const std::string &s, size_t n) {
    return std::string(n > s.size() ? n - s.size() : 0, ' ') + s;
  };
  std::ostringstream os;
  os << title << "\n" << std::string(rw + 2, ' ');
  for (int64_t j = 0; j < p.cols; ++j)
    os << "  " << pad(std::to_string(j), w) << " ";
  os << "\n";
  std::string rule = std::string(rw + 2, ' ') + "+";
  for (int64_t j = 0; j < p.cols; ++j)
    rule += std::string(w + 2, '-') + "+";
  os << rule << "\n";
  for (int64_t i = 0; i < p.rows; ++i) {
    os << pad(std::to_string(i), rw) << "  |";
    for (int64_t j = 0; j < p.cols; ++j)
      os << " " << pad(p.labels[i * p.cols + j], w) << " |";
    os << "\n";
  }
  os << rule << "\n";
  return os.str();
}

std::string renderSvg(const std::string &title, const Picture &p) {
  const int cw = 44, ch = 24, margin = 30;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << margin + p.cols * cw + 10
     << "\" height=\"" << margin + 20 + p.rows * ch + 10
     << "\" font-family=\"monospace\" font-size=\"11\">\n";
  os << "<text x=\"4\" y=\"14\">" << title << "</text>\n";
  for (int64_t i = 0; i < p.rows; ++i)
    for (int64_t j = 0; j < p.cols; ++j) {
      int64_t c = p.colour[i * p.cols + j];
      // Eight pastel hues cycled by the colour key, lighter for odd keys/8.
      int hue = int((c % 8) * 45), light = 75 + int((c / 8) % 2) * 12;
      int x = margin + int(j) * cw, y = margin + 20 + int(i) * ch;
      os << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << cw << "\" height=\"" << ch
         << "\" fill=\"hsl(" << hue << ",60%," << light << "%)\" stroke=\"black\"/>\n";
      os << "<text x=\"" << x + cw / 2 << "\" y=\"" << y + ch / 2 + 4
         << "\" text-anchor=\"middle\">" << p.labels[i * p.cols + j] << "</text>\n";
    }
  for (int64_t j = 0; j < p.cols; ++j)
    os << "<text x=\"" << margin + j * cw + cw / 2 << "\" y=\"" << margin + 14
       << "\" text-anchor=\"middle\">" << j << "</text>\n";
  for (int64_t i = 0; i < p.rows; ++i)
    os << "<text x=\"" << margin - 6 << "\" y=\"" << margin + 20 + i * ch + ch / 2 + 4
       << "\" text-anchor=\"end\">" << i << "</text>\n";
  os << "</svg>\n";
  return os.str();
}

Result<Picture> gridPicture(const SwizzledLayout &l) {
  const Layout &inner = l.layout;
  if (inner.rank() > 2)
    return Result<Picture>::failure("draw: layout " + inner.str() + " has rank " +
                                    std::to_string(inner.rank()) +
                                    "; only rank 1 and 2 can be drawn");
  Picture p;
  p.rows = inner.rank() == 2 ? inner[0].size() : 1;
  p.cols = inner.rank() == 2 ? inner[1].size() : inner.size();
  if (p.rows * p.cols > 128 * 128)
    return Result<Picture>::failure("draw: layout too large to draw");
  for (int64_t i = 0; i < p.rows; ++i)
    for (int64_t j = 0; j < p.cols; ++j) {
      int64_t v = inner.rank() == 2 ? l(i + j * p.rows) : l(j);
      p.labels.push_back(std::to_string(v));
      p.colour.push_back(v);
    }
  return p;
}

Result<Picture> tvPicture(const Layout &tv, int64_t rows, int64_t cols) {
  if (tv.rank() != 2)
    return Result<Picture>::failure("draw: a thread-value layout needs rank 2 "
                                    "(threads, values), got " + tv.str());
  if (rows <= 0 || cols <= 0 || rows * cols > 128 * 128)
    return Result<Picture>::failure("draw: bad tile size");
  Picture p;
  p.rows = rows;
  p.cols = cols;
  p.labels.assign(rows * cols, ".");
  p.colour.assign(rows * cols, 0);
  std::vector<bool> seen(rows * cols, false);
  int64_t threads = tv[0].size(), values = tv[1].size();
  for (int64_t v = 0; v < values; ++v)
    for (int64_t t = 0; t < threads; ++t) {
      int64_t idx = tv(t + v * threads);
      if (idx < 0 || idx >= rows * cols)
        return Result<Picture>::failure("draw: " + tv.str() + " maps (" + std::to_string(t) +
                                        "," + std::to_string(v) + ") to " +
                                        std::to_string(idx) + ", outside the " +
                                        std::to_string(rows) + "x" + std::to_string(cols) +
                                        " tile");
      int64_t m = idx % rows, n = idx / rows;
      if (seen[m * cols + n])
        continue;
      seen[m * cols + n] = true;
      p.labels[m * cols + n] = "T" + std::to_string(t) + "V" + std::to_string(v);
      p.colour[m * cols + n] = t;
    }
  return p;
}
} // namespace

Result<std::string> drawGrid(const SwizzledLayout &l) {
  auto p = gridPicture(l);
  if (!p)
    return Result<std::string>::failure(p.error());
  return renderText(l.swizzle.isIdentity() && l.offset == 0 ? l.layout.str() : l.str(), *p);
}

Result<std::string> drawThreadValue(const Layout &tv, int64_t rows, int64_t cols) {
  auto p = tvPicture(tv, rows, cols);
  if (!p)
    return Result<std::string>::failure(p.error());
  return renderText(tv.str() + " on " + std::to_string(rows) + "x" + std::to_string(cols), *p);
}

Result<std::string> drawGridSvg(const SwizzledLayout &l) {
  auto p = gridPicture(l);
  if (!p)
    return Result<std::string>::failure(p.error());
  return renderSvg(l.str(), *p);
}

Result<std::string> drawThreadValueSvg(const Layout &tv, int64_t rows, int64_t cols) {
  auto p = tvPicture(tv, rows, cols);
  if (!p)
    return Result<std::string>::failure(p.error());
  return renderSvg(tv.str(), *p);
}

} // namespace kiln::layout
