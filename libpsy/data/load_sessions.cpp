#include "libpsy/data/load_sessions.h"

#include <unordered_map>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/core/utf8.h"

namespace psy {

namespace {

using json = nlohmann::ordered_json;

// 1-based line and column of a byte offset.
void line_column(const std::string& text, size_t offset, long& line, long& column) {
  line = 1;
  column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
}

std::string type_of(const json& j) { return j.type_name(); }

class SessionReader {
 public:
  SessionReader(ErrorLocation where) : where_(std::move(where)) {}

  Session read(const json& j) {
    if (!j.is_object()) fail("", expected_found("an object (one session)", type_of(j)));
    Session s;
    s.dialog_id = id_field(j, "dialog_id", true);
    where_.item += " (dialog_id " + s.dialog_id + ")";
    s.theme = text_field(j, "theme");
    s.psychotherapy = text_field(j, "psychotherapy");
    s.topic = text_field(j, "topic");
    s.stage = text_field(j, "stage");
    s.guide = text_field(j, "guide");
    s.background = text_field(j, "background");
    s.reasoning = text_field(j, "reasoning");
    s.summary = text_field(j, "summary");
    s.is_same_qa = flag_field(j, "is_same_qa");
    s.is_same_session = flag_field(j, "is_same_session");
    auto it = j.find("dialog");
    if (it == j.end()) fail("dialog", "missing (a session needs a list of turns)");
    if (!it->is_array()) fail("dialog", expected_found("a list of turns", type_of(*it)));
    if (it->empty()) fail("dialog", "empty (a session needs at least one turn)");
    for (size_t k = 0; k < it->size(); ++k) s.turns.push_back(read_turn((*it)[k], k));
    s.raw_json = j.dump();
    return s;
  }

 private:
  [[noreturn]] void fail(const std::string& field, const std::string& problem) {
    ErrorLocation at = where_;
    at.field = field;
    throw Error(at, problem);
  }

  std::string text_field(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return "";
    if (!it->is_string()) fail(key, expected_found("a string", type_of(*it)));
    return it->get<std::string>();
  }

  std::string id_field(const json& j, const char* key, bool required) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) fail(key, "missing");
      return "";
    }
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return std::to_string(it->get<long long>());
    fail(key, expected_found("a string or an integer", type_of(*it)));
  }

  int flag_field(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return -1;
    if (it->is_boolean()) return it->get<bool>() ? 1 : 0;
    if (it->is_number_integer()) return static_cast<int>(it->get<long long>());
    if (it->is_string() && it->get<std::string>().empty()) return -1;
    fail(key, expected_found("0, 1 or \"\"", it->dump()));
  }

  std::vector<std::string> label_field(const json& j, const char* key) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (it->is_string()) {
      if (!it->get<std::string>().empty()) out.push_back(it->get<std::string>());
      return out;
    }
    if (!it->is_array()) fail(key, expected_found("a list of strings", type_of(*it)));
    for (const auto& e : *it) {
      // Chinese turns carry {"label": ..., "index": ..., "type": ...} objects in "labels".
      if (e.is_object() && e.contains("label") && e["label"].is_string()) {
        out.push_back(e["label"].get<std::string>());
      } else if (e.is_string()) {
        out.push_back(e.get<std::string>());
      } else {
        fail(key, expected_found("a list of strings or {\"label\": ...} objects", "a list holding " + type_of(e)));
      }
    }
    return out;
  }

  Turn read_turn(const json& j, size_t k) {
    const std::string saved_sub = where_.sub;
    where_.sub = "turn #" + std::to_string(k);
    if (!j.is_object()) fail("", expected_found("an object (one turn)", type_of(j)));
    Turn t;
    t.id = id_field(j, "id", false);
    if (!t.id.empty()) where_.sub = "turn " + t.id;
    auto sp = j.find("speaker");
    if (sp == j.end() || sp->is_null()) fail("speaker", "missing (expected \"Seeker\" or \"Supporter\")");
    if (!sp->is_string()) fail("speaker", expected_found("\"Seeker\" or \"Supporter\"", type_of(*sp)));
    const std::string speaker = sp->get<std::string>();
    if (speaker == "Seeker") {
      t.speaker = Speaker::Client;
    } else if (speaker == "Supporter") {
      t.speaker = Speaker::Therapist;
    } else {
      fail("speaker", expected_found("\"Seeker\" or \"Supporter\"", "\"" + speaker + "\""));
    }
    auto ct = j.find("content");
    if (ct == j.end() || ct->is_null()) fail("content", "missing (every turn needs its utterance)");
    if (!ct->is_string()) fail("content", expected_found("a string", type_of(*ct)));
    t.content = ct->get<std::string>();
    t.participant = text_field(j, "participant");
    t.observation = text_field(j, "observation");
    t.reasoning = text_field(j, "reasoning");
    t.emotion_labels = label_field(j, "emotional label");
    t.strategies = label_field(j, "strategy");
    t.labels = label_field(j, "labels");
    for (auto& l : label_field(j, "reference_labels")) t.labels.push_back(std::move(l));
    where_.sub = saved_sub;
    return t;
  }

  ErrorLocation where_;
};

ErrorLocation session_location(const std::string& name, size_t index, long line) {
  ErrorLocation at;
  at.file = name;
  at.line = line;
  at.item = "session index " + std::to_string(index);
  return at;
}

std::string dialog_id_hint(const json& j) {
  if (j.is_object()) {
    auto it = j.find("dialog_id");
    if (it != j.end() && it->is_string()) return it->get<std::string>();
    if (it != j.end() && it->is_number_integer()) return std::to_string(it->get<long long>());
  }
  return "";
}

void add_session(LoadedSessions& out, const json& j, const std::string& name, size_t index, long line,
                 OnError on_error) {
  try {
    Session s = SessionReader(session_location(name, index, line)).read(j);
    s.source_file = name;
    s.source_index = index;
    s.source_line = line;
    out.sessions.push_back(std::move(s));
  } catch (const Error& e) {
    if (on_error == OnError::Stop) throw;
    out.skipped.push_back({index, dialog_id_hint(j), e.what()});
  }
}

[[noreturn]] void throw_parse_error(const std::string& text, const std::string& name, size_t byte_offset,
                                    long line_base, const std::string& what) {
  ErrorLocation at;
  at.file = name;
  line_column(text, byte_offset, at.line, at.column);
  at.line += line_base;
  throw Error(at, "malformed JSON: " + what);
}

// nlohmann reports a number that overflows a double as out_of_range.406 "number overflow parsing
// '1e999'", without a position: the token is found in the text to name its line and column.
std::string value_problem(const json::exception& e) {
  const std::string m = e.what();
  const auto open = m.find('\'');
  const auto close = open == std::string::npos ? std::string::npos : m.find('\'', open + 1);
  if (m.find("number overflow") != std::string::npos && close != std::string::npos)
    return "number " + m.substr(open + 1, close - open - 1) + " is beyond the range of a double";
  const auto bracket = m.find("] ");
  return "unreadable JSON value: " + (bracket == std::string::npos ? m : m.substr(bracket + 2));
}

[[noreturn]] void throw_value_error(const std::string& text, const std::string& name, long line_base,
                                    const json::exception& e) {
  ErrorLocation at;
  at.file = name;
  const std::string m = e.what();
  const auto open = m.find('\'');
  const auto close = open == std::string::npos ? std::string::npos : m.find('\'', open + 1);
  if (close != std::string::npos) {
    const size_t pos = text.find(m.substr(open + 1, close - open - 1));
    if (pos != std::string::npos) line_column(text, pos, at.line, at.column);
  }
  if (at.line == 0) at.line = 1;
  at.line += line_base;
  throw Error(at, value_problem(e));
}

std::string short_parse_message(const json::parse_error& e) {
  // nlohmann's message: "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
  std::string m = e.what();
  auto colon = m.find(": ", m.find("column"));
  return colon == std::string::npos ? m : m.substr(colon + 2);
}

std::string place_of(const Session& s) {
  return s.source_file + (s.source_line > 0 ? ":" + std::to_string(s.source_line) : "") + " (session index " +
         std::to_string(s.source_index) + ")";
}

// A dialog_id seen twice would put one session on both sides of the split (train/test leakage):
// refused naming both places, or with on_error skip the later copy is dropped and reported.
void drop_duplicate_ids(LoadedSessions& all, OnError on_error) {
  std::unordered_map<std::string, size_t> first;  // dialog_id -> position in `kept`
  std::vector<Session> kept;
  kept.reserve(all.sessions.size());
  for (size_t i = 0; i < all.sessions.size(); ++i) {
    Session& s = all.sessions[i];
    auto [it, fresh] = first.emplace(s.dialog_id, kept.size());
    if (fresh) {
      kept.push_back(std::move(s));
      continue;
    }
    const Session& earlier = kept[it->second];
    ErrorLocation at;
    at.file = s.source_file;
    at.line = s.source_line;
    at.item = "session index " + std::to_string(s.source_index);
    const std::string problem = "dialog_id '" + s.dialog_id + "' is given twice, first at " +
                                place_of(earlier) +
                                " (one session on both sides of a split would leak test data into training)";
    if (on_error == OnError::Stop) throw Error(at, problem);
    all.skipped.push_back({s.source_index, s.dialog_id, describe(at, problem) + "; the later copy is dropped"});
  }
  all.sessions = std::move(kept);
}

}  // namespace

OnError parse_on_error(const std::string& value) {
  if (value == "stop") return OnError::Stop;
  if (value == "skip") return OnError::Skip;
  throw Error("--on-error: " + expected_found("stop or skip", "'" + value + "'"));
}

LoadedSessions parse_sessions(const std::string& text, const std::string& name, OnError on_error) {
  LoadedSessions out;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text.compare(first, 3, "\xEF\xBB\xBF") == 0)
    first = text.find_first_not_of(" \t\r\n", first + 3);
  if (first == std::string::npos) {  // nothing but whitespace (and a byte order mark)
    throw Error(name + ": empty file (expected a JSON list of sessions or JSON Lines, one session per line)");
  }
  if (size_t bad = find_invalid_utf8(text); bad != std::string::npos) {
    ErrorLocation at;
    at.file = name;
    line_column(text, bad, at.line, at.column);
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[bad]));
    throw Error(at, std::string("invalid UTF-8 (byte ") + hex + " at offset " + std::to_string(bad) + ")");
  }
  if (text[first] == '[') {
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::parse_error& e) {
      throw_parse_error(text, name, e.byte > 0 ? e.byte - 1 : 0, 0, short_parse_message(e));
    } catch (const json::exception& e) {  // out_of_range: a number beyond a double (1e999)
      throw_value_error(text, name, 0, e);
    }
    for (size_t i = 0; i < doc.size(); ++i) add_session(out, doc[i], name, i, 0, on_error);
  } else if (text[first] == '{') {
    size_t pos = 0, index = 0;
    long line_no = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      ++line_no;
      std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      json j;
      try {
        j = json::parse(line);
      } catch (const json::parse_error& e) {
        if (on_error == OnError::Stop) {
          throw_parse_error(line, name, e.byte > 0 ? e.byte - 1 : 0, line_no - 1, short_parse_message(e));
        }
        out.skipped.push_back({index++, "", name + ":" + std::to_string(line_no) + ": malformed JSON: " +
                                                short_parse_message(e)});
        continue;
      } catch (const json::exception& e) {  // out_of_range: a number beyond a double (1e999)
        if (on_error == OnError::Stop) throw_value_error(line, name, line_no - 1, e);
        out.skipped.push_back({index++, "", name + ":" + std::to_string(line_no) + ": " + value_problem(e)});
        continue;
      }
      add_session(out, j, name, index++, line_no, on_error);
    }
  } else {
    ErrorLocation at;
    at.file = name;
    line_column(text, first, at.line, at.column);
    throw Error(at, expected_found("a JSON list of sessions ('[') or JSON Lines ('{')",
                                   "'" + text.substr(first, 1) + "'"));
  }
  if (out.sessions.empty() && out.skipped.empty()) throw Error(name + ": no sessions in the file");
  drop_duplicate_ids(out, on_error);
  return out;
}

LoadedSessions load_sessions(const std::string& path, OnError on_error) {
  return parse_sessions(read_text_file(path), path, on_error);
}

LoadedSessions load_session_files(const std::vector<std::string>& paths, OnError on_error) {
  LoadedSessions all;
  for (const auto& p : paths) {
    LoadedSessions one = load_sessions(p, on_error);
    for (auto& s : one.sessions) all.sessions.push_back(std::move(s));
    for (auto& k : one.skipped) all.skipped.push_back(std::move(k));
  }
  drop_duplicate_ids(all, on_error);  // across files too
  return all;
}

}  // namespace psy
