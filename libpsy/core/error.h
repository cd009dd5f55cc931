// The one exception type psy throws for bad input and failed operations.
// The CLI turns it into one readable line and returns exit_code().
#pragma once
#include <stdexcept>
#include <string>

namespace psy {

// Where a problem is: any part may be empty/zero and is then left out of the message.
struct ErrorLocation {
  std::string file;
  long line = 0;    // 1-based; 0 = unknown
  long column = 0;  // 1-based; 0 = unknown
  std::string item;   // e.g. "session 3 (dialog_id 000708)"
  std::string sub;    // e.g. "turn 292-1"
  std::string field;  // e.g. "content"
};

// Exit codes: 2 = bad input or usage (the user can fix the call), 1 = the operation failed.
constexpr int kExitBadInput = 2;
constexpr int kExitFailure = 1;

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_code = kExitBadInput);
  // "FILE:LINE:COL: ITEM, SUB, field 'F': PROBLEM"
  Error(const ErrorLocation& where, const std::string& problem, int exit_code = kExitBadInput);
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// "expected X, found Y" in one place so every message reads the same.
std::string expected_found(const std::string& expected, const std::string& found);
std::string describe(const ErrorLocation& where, const std::string& problem);

}  // namespace psy
