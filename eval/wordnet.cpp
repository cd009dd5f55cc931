#include "eval/wordnet.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

#include "eval/porter_stemmer.h"
#include "libpsy/core/error.h"

namespace psy::eval {

namespace {

constexpr const char* kDefaultDir = "/usr/share/wordnet";
constexpr const char* kPackageHint =
    "install the Debian package wordnet-base (apt-get install wordnet-base), or point "
    "PSY_WORDNET_DIR at a folder holding the WordNet 3.0 database files";

const char* file_suffix(WordNetPos pos) {
  switch (pos) {
    case WordNetPos::noun: return "noun";
    case WordNetPos::verb: return "verb";
    case WordNetPos::adj: return "adj";
    case WordNetPos::adv: return "adv";
  }
  return "noun";
}

char pos_char(WordNetPos pos) {
  switch (pos) {
    case WordNetPos::noun: return 'n';
    case WordNetPos::verb: return 'v';
    case WordNetPos::adj: return 'a';
    case WordNetPos::adv: return 'r';
  }
  return 'n';
}

size_t pos_slot(WordNetPos pos) { return static_cast<size_t>(pos); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// A file mapped read-only into memory.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) munmap(const_cast<char*>(data_), size_);
  }

  void open(const std::string& path, const std::string& dir) {
    path_ = path;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      throw Error("WordNet: cannot open " + path + " (" + std::strerror(errno) + ") in folder " + dir +
                  ": " + kPackageHint);
    }
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
      ::close(fd);
      throw Error("WordNet: " + path + " is empty or not a regular file (folder " + dir + "): " + kPackageHint);
    }
    size_ = static_cast<size_t>(st.st_size);
    void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) {
      size_ = 0;
      throw Error("WordNet: cannot map " + path + " into memory (" + std::strerror(errno) + ")", kExitFailure);
    }
    data_ = static_cast<const char*>(p);
  }

  std::string_view view() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

  // The line starting at byte `pos` (without its newline).
  std::string_view line_at(size_t pos) const {
    if (pos >= size_) return {};
    const void* nl = std::memchr(data_ + pos, '\n', size_ - pos);
    const size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data_) : size_;
    return {data_ + pos, end - pos};
  }

  // The first whitespace-delimited token of the line starting at byte `pos`.
  std::string_view key_at(size_t pos) const {
    size_t end = pos;
    while (end < size_ && !is_space(data_[end])) ++end;
    return {data_ + pos, end - pos};
  }

  long line_number(size_t pos) const {
    return 1 + static_cast<long>(std::count(data_, data_ + std::min(pos, size_), '\n'));
  }

 private:
  std::string path_;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// Splits on runs of whitespace, like Python's str.split().
std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i >= s.size()) break;
    size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// The whitespace-separated fields of a string, one at a time (for lines whose first fields
// are all that is needed).
class Fields {
 public:
  explicit Fields(std::string_view s) : s_(s) {}
  bool next(std::string_view& field) {
    while (i_ < s_.size() && is_space(s_[i_])) ++i_;
    if (i_ >= s_.size()) return false;
    size_t j = i_;
    while (j < s_.size() && !is_space(s_[j])) ++j;
    field = s_.substr(i_, j - i_);
    i_ = j;
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

bool parse_uint(std::string_view s, int base, uint64_t& value) {
  if (s.empty() || s.size() > 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  value = v;
  return true;
}

// The lines of a mapped file ordered by their first token (file order among equal tokens),
// for binary search.
struct KeyedLines {
  std::vector<uint32_t> starts;

  void build(const MappedFile& file, bool skip_space_lines) {
    const std::string_view text = file.view();
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t nl = text.find('\n', pos);
      const size_t end = nl == std::string_view::npos ? text.size() : nl;
      bool blank = true;
      for (size_t i = pos; i < end && blank; ++i) blank = is_space(text[i]);
      const bool header = skip_space_lines && text[pos] == ' ';
      if (!blank && !header) starts.push_back(static_cast<uint32_t>(pos));
      pos = end + 1;
    }
    auto key = [&](uint32_t s) { return file.key_at(s); };
    bool sorted = true;
    for (size_t i = 1; i < starts.size() && sorted; ++i) sorted = !(key(starts[i]) < key(starts[i - 1]));
    if (!sorted)
      std::stable_sort(starts.begin(), starts.end(), [&](uint32_t a, uint32_t b) { return key(a) < key(b); });
  }

  // Start of the last line whose first token equals `k`, or -1.
  long find_last(const MappedFile& file, std::string_view k) const {
    auto it = std::upper_bound(starts.begin(), starts.end(), k, [&](std::string_view q, uint32_t s) {
      return q < file.key_at(s);
    });
    if (it == starts.begin()) return -1;
    --it;
    return file.key_at(*it) == k ? static_cast<long>(*it) : -1;
  }
};

// NLTK's MORPHOLOGICAL_SUBSTITUTIONS.
struct Substitution {
  std::string_view old_suffix;
  std::string_view new_suffix;
};

const std::vector<Substitution>& substitutions(WordNetPos pos) {
  static const std::vector<Substitution> noun = {{"s", ""},     {"ses", "s"},   {"ves", "f"},
                                                 {"xes", "x"},  {"zes", "z"},   {"ches", "ch"},
                                                 {"shes", "sh"}, {"men", "man"}, {"ies", "y"}};
  static const std::vector<Substitution> verb = {{"s", ""},   {"ies", "y"}, {"es", "e"},   {"es", ""},
                                                 {"ed", "e"}, {"ed", ""},   {"ing", "e"}, {"ing", ""}};
  static const std::vector<Substitution> adj = {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}};
  static const std::vector<Substitution> adv = {};
  switch (pos) {
    case WordNetPos::noun: return noun;
    case WordNetPos::verb: return verb;
    case WordNetPos::adj: return adj;
    case WordNetPos::adv: return adv;
  }
  return adv;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && std::string_view(s).substr(s.size() - suffix.size()) == suffix;
}

// One application of the rules to every form, without repeating a form (repeats cannot change
// which forms NLTK returns, and dropping them keeps pathological words from blowing up).
std::vector<std::string> apply_substitutions(const std::vector<std::string>& forms, WordNetPos pos) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const std::string& form : forms) {
    for (const Substitution& sub : substitutions(pos)) {
      if (!ends_with(form, sub.old_suffix)) continue;
      std::string next = form.substr(0, form.size() - sub.old_suffix.size());
      next += sub.new_suffix;
      if (seen.insert(next).second) out.push_back(std::move(next));
    }
  }
  return out;
}

// A lemma name as NLTK keeps it: a trailing syntactic marker "(...)" removed, i.e. the text
// before the first '(' when the name ends with ')'.
std::string_view strip_marker(std::string_view name) {
  if (name.size() >= 2 && name.back() == ')') {
    const size_t open = name.find('(');
    if (open != std::string_view::npos && open < name.size() - 1) return name.substr(0, open);
  }
  return name;
}

}  // namespace

struct WordNet::Impl {
  std::string dir;
  MappedFile index_files[4];
  MappedFile data_files[4];
  MappedFile exception_files[4];
  KeyedLines index[4];
  KeyedLines exceptions[4];

  [[noreturn]] void malformed(const MappedFile& file, size_t pos, const std::string& problem) const {
    ErrorLocation where;
    where.file = file.path();
    where.line = file.line_number(pos);
    throw Error(where, "malformed WordNet file (" + problem + "); " + kPackageHint);
  }

  // Synset offsets of an index line (NLTK's _load_lemma_pos_offset_map parsing).
  std::vector<uint32_t> offsets_of(WordNetPos pos, long line_start) const {
    const MappedFile& file = index_files[pos_slot(pos)];
    const std::vector<std::string_view> t = split_ws(file.line_at(static_cast<size_t>(line_start)));
    size_t i = 2;
    uint64_t n_synsets = 0, n_pointers = 0, n_senses = 0;
    auto need = [&](size_t k) {
      if (t.size() < k) malformed(file, static_cast<size_t>(line_start), "index line too short");
    };
    need(4);
    if (!parse_uint(t[i++], 10, n_synsets) || n_synsets == 0) malformed(file, line_start, "bad synset count");
    if (!parse_uint(t[i++], 10, n_pointers)) malformed(file, line_start, "bad pointer count");
    i += n_pointers;
    need(i + 2);
    if (!parse_uint(t[i++], 10, n_senses) || n_senses != n_synsets)
      malformed(file, line_start, "sense count differs from synset count");
    ++i;  // tagsense_cnt
    need(i + n_synsets);
    std::vector<uint32_t> offsets;
    offsets.reserve(n_synsets);
    for (uint64_t k = 0; k < n_synsets; ++k) {
      uint64_t off = 0;
      if (!parse_uint(t[i++], 10, off) || off > 0xFFFFFFFFu) malformed(file, line_start, "bad synset offset");
      offsets.push_back(static_cast<uint32_t>(off));
    }
    return offsets;
  }

  // Parses the synset at `offset` of data.<pos> (NLTK's synset_from_pos_and_offset): its
  // ss_type and its lemma names (views into the mapped file, syntactic markers removed).
  char parse_synset(WordNetPos pos, uint32_t offset, std::vector<std::string_view>& names) const {
    const MappedFile& file = data_files[pos_slot(pos)];
    const std::string_view line = file.line_at(offset);
    char expected[16];
    std::snprintf(expected, sizeof expected, "%08u", offset);
    if (line.size() < 8 || line.substr(0, 8) != expected)
      malformed(file, offset, "no synset at offset " + std::string(expected) + " named by index." + file_suffix(pos));
    const size_t bar = line.find('|');
    // Only the header and the lemma fields are read, not the pointers after them.
    Fields fields(line.substr(0, bar));
    std::string_view t[4];
    uint64_t n_lemmas = 0;
    for (auto& field : t)
      if (!fields.next(field)) malformed(file, offset, "bad synset header");
    if (t[2].size() != 1 || !parse_uint(t[3], 16, n_lemmas)) malformed(file, offset, "bad synset header");
    for (uint64_t k = 0; k < n_lemmas; ++k) {
      std::string_view word, lex_id;
      if (!fields.next(word) || !fields.next(lex_id)) malformed(file, offset, "bad synset header");
      names.push_back(strip_marker(word));
    }
    return t[2][0];
  }

  WordNetSynset synset_at(WordNetPos pos, uint32_t offset) const {
    std::vector<std::string_view> names;
    WordNetSynset s;
    s.pos = parse_synset(pos, offset, names);
    s.offset = offset;
    s.lemma_names.assign(names.begin(), names.end());
    return s;
  }
};

struct WordNet::Cache {
  std::shared_mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const SynonymSet>> synonyms;
};

SynonymSet::SynonymSet(std::vector<std::string> names) : names_(std::move(names)) {
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
  size_t slots = 8;
  while (slots < 2 * names_.size()) slots *= 2;
  table_.assign(slots, {0, 0});
  mask_ = slots - 1;
  for (size_t i = 0; i < names_.size(); ++i) {
    const uint64_t h = hash(names_[i]);
    size_t k = h & mask_;
    while (table_[k].second != 0) k = (k + 1) & mask_;
    table_[k] = {h, static_cast<uint32_t>(i + 1)};
  }
}

uint64_t SynonymSet::hash(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

bool SynonymSet::contains(uint64_t hash_of_s, std::string_view s) const {
  for (size_t k = hash_of_s & mask_; table_[k].second != 0; k = (k + 1) & mask_)
    if (table_[k].first == hash_of_s && names_[table_[k].second - 1] == s) return true;
  return false;
}

WordNet WordNet::load(const std::string& dir_arg) {
  std::string dir = dir_arg;
  if (dir.empty()) {
    const char* env = std::getenv("PSY_WORDNET_DIR");
    dir = (env != nullptr && *env != '\0') ? env : kDefaultDir;
  }
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error("WordNet: folder " + dir + " not found: " + kPackageHint);

  auto impl = std::make_shared<Impl>();
  impl->dir = dir;
  for (WordNetPos pos : kWordNetPosOrder) {
    const size_t k = pos_slot(pos);
    const std::string suffix = file_suffix(pos);
    impl->index_files[k].open(dir + "/index." + suffix, dir);
    impl->data_files[k].open(dir + "/data." + suffix, dir);
    impl->exception_files[k].open(dir + "/" + suffix + ".exc", dir);
    impl->index[k].build(impl->index_files[k], /*skip_space_lines=*/true);
    impl->exceptions[k].build(impl->exception_files[k], /*skip_space_lines=*/false);

    // Every index line names its part of speech second; check them all (cheap) so that a wrong
    // or damaged file fails here, not in the middle of scoring.
    const MappedFile& index_file = impl->index_files[k];
    if (impl->index[k].starts.empty()) impl->malformed(index_file, 0, "no index entries");
    for (uint32_t start : impl->index[k].starts) {
      const std::string_view line = index_file.line_at(start);
      const size_t sp = line.find(' ');
      if (sp == std::string_view::npos || sp + 2 > line.size() || line[sp + 1] != pos_char(pos) ||
          (sp + 2 < line.size() && line[sp + 2] != ' '))
        impl->malformed(index_file, start,
                        std::string("expected '<lemma> ") + pos_char(pos) + " ...' on every entry line");
    }
    // The first synset of the data file must parse.
    const MappedFile& data_file = impl->data_files[k];
    const std::string_view text = data_file.view();
    size_t pos_in = 0;
    while (pos_in < text.size() && text[pos_in] == ' ') {
      const size_t nl = text.find('\n', pos_in);
      if (nl == std::string_view::npos) break;
      pos_in = nl + 1;
    }
    uint64_t first = 0;
    if (pos_in + 8 > text.size() || !parse_uint(text.substr(pos_in, 8), 10, first) || first != pos_in)
      impl->malformed(data_file, pos_in, "expected a synset line starting with its 8-digit byte offset");
    impl->synset_at(pos, static_cast<uint32_t>(first));
  }

  WordNet wn;
  wn.impl_ = std::move(impl);
  wn.cache_ = std::make_shared<Cache>();
  return wn;
}

const std::string& WordNet::dir() const { return impl_->dir; }

bool WordNet::in_index(std::string_view lemma, WordNetPos pos) const {
  const size_t k = pos_slot(pos);
  return impl_->index[k].find_last(impl_->index_files[k], lemma) >= 0;
}

size_t WordNet::index_size(WordNetPos pos) const { return impl_->index[pos_slot(pos)].starts.size(); }

std::vector<std::string> WordNet::morphy(const std::string& form, WordNetPos pos) const {
  const size_t k = pos_slot(pos);
  auto filter = [&](const std::vector<std::string>& forms) {
    std::vector<std::string> result;
    for (const std::string& f : forms) {
      if (!in_index(f, pos)) continue;
      if (std::find(result.begin(), result.end(), f) == result.end()) result.push_back(f);
    }
    return result;
  };

  // 0. The exception list: the form itself and its listed base forms, nothing else.
  const long exc = impl_->exceptions[k].find_last(impl_->exception_files[k], form);
  if (exc >= 0) {
    const std::vector<std::string_view> terms = split_ws(impl_->exception_files[k].line_at(static_cast<size_t>(exc)));
    std::vector<std::string> forms;
    forms.push_back(form);
    for (size_t i = 1; i < terms.size(); ++i) forms.emplace_back(terms[i]);
    return filter(forms);
  }
  // 1-2. One round of suffix rules; the form itself is tried first.
  std::vector<std::string> forms = apply_substitutions({form}, pos);
  std::vector<std::string> first_round;
  first_round.reserve(forms.size() + 1);
  first_round.push_back(form);
  first_round.insert(first_round.end(), forms.begin(), forms.end());
  std::vector<std::string> results = filter(first_round);
  if (!results.empty()) return results;
  // 3. Keep applying the rules until something is in the index or nothing is left.
  while (!forms.empty()) {
    forms = apply_substitutions(forms, pos);
    results = filter(forms);
    if (!results.empty()) return results;
  }
  return {};
}

namespace {

// NLTK's synsets(word) order: for each part of speech, each morphy form, each offset in the index.
template <class Visit>
void visit_synsets(const WordNet& wn, const WordNet::Impl& impl, const std::string& word, Visit&& visit) {
  const std::string lemma = python_lower(word);
  for (WordNetPos pos : kWordNetPosOrder) {
    const size_t k = pos_slot(pos);
    for (const std::string& form : wn.morphy(lemma, pos)) {
      const long line = impl.index[k].find_last(impl.index_files[k], form);
      if (line < 0) continue;
      for (uint32_t offset : impl.offsets_of(pos, line)) visit(pos, offset);
    }
  }
}

}  // namespace

std::vector<WordNetSynset> WordNet::synsets(const std::string& word) const {
  std::vector<WordNetSynset> out;
  visit_synsets(*this, *impl_, word, [&](WordNetPos pos, uint32_t offset) { out.push_back(impl_->synset_at(pos, offset)); });
  return out;
}

std::shared_ptr<const SynonymSet> WordNet::meteor_synonyms(const std::string& word) const {
  {
    std::shared_lock<std::shared_mutex> lock(cache_->mutex);
    auto it = cache_->synonyms.find(word);
    if (it != cache_->synonyms.end()) return it->second;
  }
  std::vector<std::string_view> names;
  names.push_back(word);
  std::vector<std::string_view> synset_names;
  visit_synsets(*this, *impl_, word, [&](WordNetPos pos, uint32_t offset) {
    synset_names.clear();
    impl_->parse_synset(pos, offset, synset_names);
    for (std::string_view name : synset_names)
      if (name.find('_') == std::string_view::npos) names.push_back(name);
  });
  auto shared = std::make_shared<const SynonymSet>(std::vector<std::string>(names.begin(), names.end()));

  std::unique_lock<std::shared_mutex> lock(cache_->mutex);
  constexpr size_t kMaxCached = 1u << 18;  // bounded: forget everything when full
  if (cache_->synonyms.size() >= kMaxCached) cache_->synonyms.clear();
  cache_->synonyms.emplace(word, shared);
  return shared;
}

}  // namespace psy::eval
