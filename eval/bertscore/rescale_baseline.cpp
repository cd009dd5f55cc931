#include "eval/bertscore/rescale_baseline.h"

#include <cstdlib>
#include <sstream>
#include <vector>

#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"

namespace psy::eval {

namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

RescaleBaseline read_rescale_baseline(const std::string& path, int num_layers) {
  std::istringstream lines(read_text_file(path));
  std::string line;
  long line_no = 0;
  int row = -1;  // -1 = header
  while (std::getline(lines, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    if (row++ < num_layers) continue;
    std::vector<std::string> cells;
    std::stringstream cs(line);
    std::string cell;
    while (std::getline(cs, cell, ',')) cells.push_back(trim(cell));
    if (cells.size() < 4)
      throw Error(ErrorLocation{path, line_no, 0, "", "", ""}, expected_found("LAYER,P,R,F (4 columns)", std::to_string(cells.size()) + " columns"));
    double v[3];
    for (int k = 0; k < 3; ++k) {
      const std::string& text = cells[static_cast<size_t>(k) + 1];
      char* end = nullptr;
      const double d = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0')
        throw Error(ErrorLocation{path, line_no, 0, "", "", k == 0 ? "P" : k == 1 ? "R" : "F"}, expected_found("a number", "'" + text + "'"));
      v[k] = static_cast<double>(static_cast<float>(d));
    }
    return RescaleBaseline{v[0], v[1], v[2]};
  }
  throw Error(ErrorLocation{path, 0, 0, "", "", ""},
              "no baseline row for layer " + std::to_string(num_layers) + ": " +
                  expected_found("at least " + std::to_string(num_layers + 1) + " rows after the header", std::to_string(row < 0 ? 0 : row) + " rows"));
}

}  // namespace psy::eval
