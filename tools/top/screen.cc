#include "tools/top/screen.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace physics::top {
namespace {

enum class Column { kSymbol, kPrice, kMass, kMomentum, kFriction, kEntropy, kNash, kAlpha, kRegime, kAge, kRate };

struct ColumnSpec {
  Column column;
  std::string_view header;
  std::string_view short_header;  // when `header` does not fit
  int preferred;                  // widths include the separating space
  int minimum;
  int hide_rank;                  // higher is hidden first when even minimums do not fit; 0 never
};

constexpr std::array<ColumnSpec, 11> kColumns = {{
    {Column::kSymbol, "SYMBOL", "SYMBOL", 10, 7, 0},
    {Column::kPrice, "PRICE", "PRICE", 11, 9, 2},
    {Column::kMass, "MASS", "MASS", 10, 8, 4},
    {Column::kMomentum, "MOMENTUM", "MOM", 10, 8, 5},
    {Column::kFriction, "FRICTION", "FRIC", 10, 7, 8},
    {Column::kEntropy, "ENTROPY", "ENTR", 9, 7, 7},
    {Column::kNash, "NASH_DIST", "NASH", 10, 7, 6},
    {Column::kAlpha, "ALPHA", "ALPHA", 8, 6, 3},
    {Column::kRegime, "REGIME", "REGIME", 9, 9, 1},
    {Column::kAge, "AGE", "AGE", 6, 5, 9},
    {Column::kRate, "UPD/S", "UPD/S", 7, 6, 10},
}};

struct Layout {
  std::vector<std::pair<const ColumnSpec*, int>> columns;  // spec, width
  int hidden = 0;
};

// Fits the columns into `avail` characters: shrink towards the minimums
// (widest slack first), then hide by hide_rank.
Layout LayOut(int avail) {
  std::vector<const ColumnSpec*> shown;
  for (const ColumnSpec& c : kColumns) shown.push_back(&c);
  const auto sum_min = [&] {
    int s = 0;
    for (const ColumnSpec* c : shown) s += c->minimum;
    return s;
  };
  Layout layout;
  while (sum_min() > avail && shown.size() > 1) {
    auto worst = std::max_element(shown.begin(), shown.end(),
                                  [](const ColumnSpec* a, const ColumnSpec* b) { return a->hide_rank < b->hide_rank; });
    shown.erase(worst);
    ++layout.hidden;
  }
  std::vector<int> widths;
  int total = 0;
  for (const ColumnSpec* c : shown) {
    widths.push_back(c->preferred);
    total += c->preferred;
  }
  while (total > avail) {
    size_t best = 0;
    int best_slack = 0;
    for (size_t i = 0; i < shown.size(); ++i) {
      const int slack = widths[i] - shown[i]->minimum;
      if (slack > best_slack) best = i, best_slack = slack;
    }
    if (best_slack == 0) break;
    --widths[best];
    --total;
  }
  for (size_t i = 0; i < shown.size(); ++i) layout.columns.emplace_back(shown[i], widths[i]);
  return layout;
}

std::string FormatAgeShort(absl::Duration age) {
  const double s = std::max(0.0, absl::ToDoubleSeconds(age));
  if (s < 10) return absl::StrFormat("%.1fs", s);
  if (s < 100) return absl::StrFormat("%.0fs", s);
  if (s < 6000) return absl::StrFormat("%.0fm", s / 60);
  if (s < 360000) return absl::StrFormat("%.0fh", s / 3600);
  return absl::StrFormat("%.0fd", s / 86400);
}

std::string_view RegimeColor(std::string_view regime) {
  if (regime == "Gaussian") return "\x1b[32m";
  if (regime == "Levy") return "\x1b[33m";
  if (regime == "Critical") return "\x1b[1;31m";
  return "\x1b[2m";  // WAIT: not enough data yet
}

// Right-aligns `text` in `width` after at least one separating space, or
// (the symbol, the first column) left-aligns it in the full width; cuts it.
std::string Cell(std::string_view text, int width, bool left) {
  const int inner = left ? width : width - 1;
  std::string t(text.substr(0, static_cast<size_t>(std::max(inner, 0))));
  const std::string pad(static_cast<size_t>(width - static_cast<int>(t.size())), ' ');
  return left ? t + pad : pad + t;
}

std::string CellText(const Row& row, Column column, int width, absl::Time now) {
  const schema::StateFields& s = row.state;
  const int w = width - 1;
  switch (column) {
    case Column::kSymbol: return row.symbol;
    case Column::kPrice: return FitNumber(s.price, w);
    case Column::kMass: return FitNumber(s.mass, w);
    case Column::kMomentum: return FitNumber(s.momentum, w);
    case Column::kFriction: return FitNumber(s.friction, w);
    case Column::kEntropy: return FitNumber(s.entropy, w);
    case Column::kNash: return FitNumber(s.nash_dist, w);
    case Column::kAlpha: return FitNumber(s.alpha, w);
    case Column::kRegime: return std::string(s.regime);
    case Column::kAge: return FormatAgeShort(now - absl::FromUnixMicros(s.timestamp));
    case Column::kRate: return row.rate < 100 ? absl::StrFormat("%.1f", row.rate) : absl::StrFormat("%.0f", row.rate);
  }
  return "";
}

// Cuts `text` (no escapes inside) to `width` visible characters.
std::string Fit(std::string text, int width) {
  if (static_cast<int>(text.size()) > width) text.resize(static_cast<size_t>(std::max(width, 0)));
  return text;
}

}  // namespace

std::string FitNumber(double value, int width) {
  if (width <= 0) return "";
  if (!std::isfinite(value)) return Fit("nan", width);
  char buf[64];
  for (int precision = 6; precision >= 1; --precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, value);
    std::string s(buf);
    // "1.2e+06" -> "1.2e6", "3e-05" -> "3e-5": two characters back for digits.
    if (const size_t e = s.find('e'); e != std::string::npos) {
      std::string mantissa = s.substr(0, e), exponent = s.substr(e + 1);
      const bool negative = exponent[0] == '-';
      exponent.erase(0, 1);
      exponent.erase(0, std::min(exponent.find_first_not_of('0'), exponent.size() - 1));
      s = absl::StrCat(mantissa, "e", negative ? "-" : "", exponent);
    }
    if (static_cast<int>(s.size()) <= width) return s;
  }
  return std::string(static_cast<size_t>(width), '#');
}

std::string RenderScreen(const ScreenModel& m) {
  // One column is left free: writing the last column of a line makes some
  // terminals wrap (or erase it on the next clear-to-end-of-line).
  const int avail = std::max(m.columns - 1, 1);
  const Layout layout = LayOut(avail);
  std::string out = "\x1b[H";
  const auto line = [&](std::string_view styled_line) { out.append(styled_line);
    out.append("\x1b[K\r\n"); };

  const std::string time = absl::FormatTime("%H:%M:%S", m.now, absl::LocalTimeZone());
  line(Fit(absl::StrCat("physics-top  ", std::string(m.target), "  ", m.rows.size(), "/", m.total_symbols,
                        " symbols  sort ", std::string(SortKeyName(m.sort)), m.descending ? " v" : " ^", "  ", time),
           avail));
  std::string status = std::string(m.status);
  if (!m.filter.empty() && !m.editing_filter) absl::StrAppend(&status, status.empty() ? "" : "  ", "filter: ", std::string(m.filter));
  if (!status.empty() && m.color && !m.status.empty()) {
    line(absl::StrCat("\x1b[1;31m", Fit(status, avail), "\x1b[0m"));
  } else {
    line(Fit(status, avail));
  }

  std::string header;
  for (const auto& [spec, width] : layout.columns) {
    const std::string_view name = static_cast<int>(spec->header.size()) < width ? spec->header : spec->short_header;
    header += Cell(name, width, spec->column == Column::kSymbol);
  }
  header = Fit(header, avail);
  header.resize(static_cast<size_t>(avail), ' ');
  line(m.color ? absl::StrCat("\x1b[7m", header, "\x1b[0m") : header);

  const int body_rows = std::max(m.rows_on_screen - 4, 0);
  for (int i = 0; i < body_rows && i < static_cast<int>(m.rows.size()); ++i) {
    const Row& row = *m.rows[static_cast<size_t>(i)];
    std::string text;
    for (const auto& [spec, width] : layout.columns) {
      std::string cell = Cell(CellText(row, spec->column, width, m.now), width, spec->column == Column::kSymbol);
      if (spec->column == Column::kRegime && m.color) {
        cell = absl::StrCat(std::string(RegimeColor(row.state.regime)), cell, "\x1b[0m");
      }
      text += cell;
    }
    line(text);
  }
  for (int i = static_cast<int>(m.rows.size()); i < body_rows; ++i) line("");

  std::string help;
  if (m.editing_filter) {
    help = absl::StrCat("filter: ", std::string(m.filter), "_   (Enter: keep, Esc: clear)");
  } else {
    help = "q quit  sort: s sym $ price m mass p mom f fric e entr n nash a alpha t age u upd  r reverse  / filter";
    if (static_cast<int>(help.size()) > avail) help = "q quit  sort: s $ m p f e n a t u  r reverse  / filter";
    if (layout.hidden > 0) help = absl::StrCat("+", layout.hidden, " cols hidden  ", help);
  }
  absl::StrAppend(&out, Fit(help, avail), "\x1b[K\x1b[J");
  return out;
}

}  // namespace physics::top
