// Loading Psy-Insight sessions from the released JSON (a list of sessions) or JSON Lines
// (one session per line), with validation errors that name the file, the session, the turn,
// the field, and what was expected versus found.
#pragma once
#include <string>
#include <vector>

#include "libpsy/data/session.h"

namespace psy {

enum class OnError { Stop, Skip };

struct SkippedSession {
  size_t index = 0;        // 0-based position in the file
  std::string dialog_id;   // may be empty when unknown
  std::string reason;      // the full error message
};

struct LoadedSessions {
  std::vector<Session> sessions;
  std::vector<SkippedSession> skipped;
};

// Throws psy::Error (exit code 2) for an unusable file; for an unusable session too unless
// on_error is Skip, in which case the session is recorded in `skipped` and loading goes on.
LoadedSessions load_sessions(const std::string& path, OnError on_error = OnError::Stop);

// Parses sessions from text already in memory; `name` is used in messages.
LoadedSessions parse_sessions(const std::string& text, const std::string& name,
                              OnError on_error = OnError::Stop);

// Loads several files and concatenates their sessions.
LoadedSessions load_session_files(const std::vector<std::string>& paths, OnError on_error);

OnError parse_on_error(const std::string& value);

}  // namespace psy
