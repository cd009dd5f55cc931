#include "libpsy/generate/continuous_batching.h"

#include <algorithm>
#include <numeric>
#include <string>

#include <ATen/CPUGeneratorImpl.h>

#include "libpsy/core/error.h"
#include "libpsy/core/steady_clock.h"
#include "libpsy/generate/prefix_store.h"
#include "libpsy/generate/prompt_checks.h"
#include "libpsy/generate/stop_strings.h"
#include "libpsy/nn/kv_cache.h"

namespace psy {

std::vector<std::size_t> admission_order(const std::vector<std::vector<int64_t>>& prompts, std::size_t window) {
  std::vector<std::size_t> order(prompts.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  window = std::max<std::size_t>(window, 1);
  for (std::size_t start = 0; start < order.size(); start += window) {
    auto first = order.begin() + static_cast<std::ptrdiff_t>(start);
    auto last = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + window));
    std::stable_sort(first, last, [&](std::size_t a, std::size_t b) { return prompts[a].size() > prompts[b].size(); });
  }
  return order;
}

namespace {

// One sequence in flight: a row of the shared cache.
struct Slot {
  std::size_t prompt = 0;
  std::vector<int64_t> seen;  // prompt + generated ids (repetition penalty)
  GeneratedRow row;
  int64_t live = 0;            // real columns at the end of the cache row
  int64_t next_position = 0;   // RoPE position of the next token
  int64_t pending = -1;        // the token to feed at the next decode step
  at::Generator generator;
};

class ContinuousDecoder {
 public:
  ContinuousDecoder(DecoderImpl& decoder, const std::vector<std::vector<int64_t>>& prompts, const GenerationOptions& o,
                    int64_t slots, const std::function<uint64_t(std::size_t)>& seed_of, const RowDone& on_done)
      : decoder_(decoder), prompts_(prompts), o_(o), slots_(slots), seed_of_(seed_of), on_done_(on_done),
        cache_(decoder.config().num_hidden_layers), prefixes_(o.prefix_cache_bytes) {}

  const ContinuousStats& stats() const { return stats_; }

  void run() {
    const std::vector<std::size_t> order = admission_order(prompts_, static_cast<std::size_t>(slots_));
    std::size_t next = 0;
    while (true) {
      const bool stop = o_.interrupted && o_.interrupted();
      // Fill free slots (a prompt can finish at its first token; then its slot takes the next).
      const auto admitting = Clock::now();
      while (!stop && next < order.size() && static_cast<int64_t>(running_.size()) < slots_) admit(order[next++]);
      stats_.prefill_seconds += seconds_since(admitting);
      if (stop) {
        for (auto& s : running_) finish(s, "interrupted");
        running_.clear();
        return;
      }
      if (running_.empty()) return;
      const auto decoding = Clock::now();
      decode_step();
      drop_finished(next == order.size());
      compact();
      stats_.decode_seconds += seconds_since(decoding);
    }
  }

 private:
  // Prefill of one prompt in its own cache, then its keys/values into a free row of the shared one.
  void admit(std::size_t index) {
    const std::vector<int64_t>& prompt = prompts_[index];
    Slot s;
    s.prompt = index;
    s.seen = prompt;
    s.generator = at::make_generator<at::CPUGeneratorImpl>(seed_of_ ? seed_of_(index) : 0);
    if (o_.max_new_tokens == 0) {
      s.row.finish_reason = "length";
      on_done_(index, std::move(s.row));
      return;
    }
    const auto n = static_cast<int64_t>(prompt.size());
    const PrefixStore::Match reuse = prefixes_.longest_prefix(prompt);
    KVCache single = reuse.length > 0 ? reuse.cache->prefix_copy(reuse.length, n) : KVCache(cache_.num_layers());
    single.reserve(n);
    torch::Tensor ids = torch::tensor(std::vector<int64_t>(prompt.begin() + reuse.length, prompt.end()), torch::kInt64)
                            .view({1, n - reuse.length})
                            .to(decoder_.device());
    const torch::Tensor logits = decoder_.next_token_logits(ids, {}, &single);
    stats_.prompt_tokens += n;
    stats_.reused_prompt_tokens += reuse.length;
    const int64_t row = join_shared_cache(single);
    prefixes_.add(prompt, std::move(single));
    s.live = n;
    s.next_position = n;
    rows_.resize(static_cast<std::size_t>(cache_.batch()), -1);
    if (!take_token(s, choose(logits, s))) {
      finished_rows_.push_back(row);
      return;
    }
    place(row, std::move(s));
  }

  // Copies a prompt's batch-1 cache into the last columns of a free row of the shared cache (a
  // new row when none is free); returns the row.
  int64_t join_shared_cache(const KVCache& single) {
    const int64_t n = single.length();
    if (cache_.batch() == 0) {  // the first row: the shared cache starts as a copy, room for the new tokens
      cache_ = single.prefix_copy(n, n + o_.max_new_tokens);
      return 0;
    }
    const int64_t row = free_row();
    if (n > cache_.length()) cache_.make_room_in_front(n - cache_.length());
    if (row >= 0) {
      cache_.write_row(row, single);
      return row;
    }
    cache_.add_rows(1);
    cache_.write_row(cache_.batch() - 1, single);
    return cache_.batch() - 1;
  }

  // A cache row whose sequence has finished (its columns are overwritten by the next prompt).
  int64_t free_row() {
    if (finished_rows_.empty()) return -1;
    const int64_t row = finished_rows_.back();
    finished_rows_.pop_back();
    return row;
  }

  void place(int64_t row, Slot s) {
    rows_[static_cast<std::size_t>(row)] = static_cast<int64_t>(running_.size());
    running_.push_back(std::move(s));
  }

  // The next token of one row from its logits [V] or [1, V], with the row's own generator.
  int64_t choose(const torch::Tensor& logits_row, Slot& s) {
    torch::Tensor scores = logits_row.to(torch::kFloat32).reshape({1, -1}).clone();
    apply_repetition_penalty(scores, {s.seen}, o_.sampling.repetition_penalty);
    return choose_next_tokens(scores, o_.sampling, s.generator)[0].item<int64_t>();
  }

  // Records a generated token; false when the sequence is finished (and reported).
  bool take_token(Slot& s, int64_t token) {
    s.row.new_ids.push_back(token);
    s.seen.push_back(token);
    if (o_.on_token) o_.on_token(static_cast<int64_t>(s.prompt), token);
    if (std::find(o_.eos_ids.begin(), o_.eos_ids.end(), token) != o_.eos_ids.end()) return finish(s, "eos");
    if (!o_.stop_strings.empty()) {
      std::string text = o_.detokenize(s.row.new_ids);
      const std::size_t at = find_stop_string(text, o_.stop_strings);
      if (at != std::string::npos) {
        s.row.text = text.substr(0, at);
        return finish(s, "stop_string");
      }
    }
    if (static_cast<int64_t>(s.row.new_ids.size()) >= o_.max_new_tokens) return finish(s, "length");
    s.pending = token;
    return true;
  }

  bool finish(Slot& s, const char* reason) {
    s.row.finish_reason = reason;
    if (o_.detokenize && s.row.finish_reason != "stop_string") s.row.text = o_.detokenize(s.row.new_ids);
    s.pending = -1;
    on_done_(s.prompt, std::move(s.row));
    return false;
  }

  // One token for every running row: the batch is the cache's rows, finished rows ride along masked.
  void decode_step() {
    const int64_t batch = cache_.batch();
    const int64_t len = cache_.length();
    std::vector<int64_t> tokens(static_cast<std::size_t>(batch), o_.pad_id), positions(static_cast<std::size_t>(batch), 0),
        live(static_cast<std::size_t>(batch), 0);
    for (int64_t r = 0; r < batch; ++r) {
      const int64_t i = rows_[static_cast<std::size_t>(r)];
      if (i < 0) continue;
      const Slot& s = running_[static_cast<std::size_t>(i)];
      tokens[static_cast<std::size_t>(r)] = s.pending;
      positions[static_cast<std::size_t>(r)] = s.next_position;
      live[static_cast<std::size_t>(r)] = s.live;
    }
    const torch::Device device = decoder_.device();
    torch::Tensor ids = torch::tensor(tokens, torch::kInt64).view({batch, 1}).to(device);
    torch::Tensor pos = torch::tensor(positions, torch::kInt64).view({batch, 1}).to(device);
    // Each row's real columns are its last live + 1 (right-aligned); a finished row keeps one
    // column so its softmax stays finite.
    torch::Tensor first_real = (len - torch::tensor(live, torch::kInt64)).clamp_max(len).view({batch, 1}).to(device);
    torch::Tensor mask = (torch::arange(len + 1, torch::TensorOptions().dtype(torch::kInt64).device(device)).view({1, len + 1}) >=
                          first_real).to(torch::kInt64);
    torch::Tensor logits = decoder_.next_token_logits(ids, mask, &cache_, pos);
    stats_.decode_steps += 1;
    stats_.decode_rows += static_cast<int64_t>(running_.size());
    torch::Tensor greedy;
    if (!o_.sampling.do_sample && o_.sampling.repetition_penalty == 1.0) greedy = logits.argmax(-1).to(torch::kCPU);
    for (int64_t r = 0; r < batch; ++r) {
      const int64_t i = rows_[static_cast<std::size_t>(r)];
      if (i < 0) continue;
      Slot& s = running_[static_cast<std::size_t>(i)];
      s.live += 1;
      s.next_position += 1;
      const int64_t token = greedy.defined() ? greedy[r].item<int64_t>() : choose(logits[r], s);
      if (!take_token(s, token)) {
        rows_[static_cast<std::size_t>(r)] = -1;
        finished_rows_.push_back(r);
      }
    }
    // Forget finished slots (their rows stay in the cache, free for the next prompt).
    std::vector<Slot> kept;
    for (int64_t r = 0; r < batch; ++r) {
      int64_t& i = rows_[static_cast<std::size_t>(r)];
      if (i < 0) continue;
      kept.push_back(std::move(running_[static_cast<std::size_t>(i)]));
      i = static_cast<int64_t>(kept.size()) - 1;
    }
    running_ = std::move(kept);
  }

  // Once no prompt is left to take a free row, the row leaves the cache.
  void drop_finished(bool no_more_prompts) {
    if (!no_more_prompts || finished_rows_.empty()) return;
    std::vector<int64_t> keep;
    std::vector<int64_t> rows;
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      if (rows_[r] < 0) continue;
      keep.push_back(static_cast<int64_t>(r));
      rows.push_back(rows_[r]);
    }
    finished_rows_.clear();
    rows_ = rows;
    if (keep.empty()) {
      cache_.clear();
      return;
    }
    cache_.select_rows(torch::tensor(keep, torch::kInt64));
  }

  // Drops the front columns no running row needs, once they are at least half the cache.
  void compact() {
    int64_t longest = 0;
    for (const auto& s : running_) longest = std::max(longest, s.live);
    const int64_t unused = cache_.length() - longest;
    if (unused > 0 && unused >= longest) cache_.drop_front(unused);
  }

  DecoderImpl& decoder_;
  const std::vector<std::vector<int64_t>>& prompts_;
  const GenerationOptions& o_;
  const int64_t slots_;
  const std::function<uint64_t(std::size_t)>& seed_of_;
  const RowDone& on_done_;
  KVCache cache_;
  PrefixStore prefixes_;
  ContinuousStats stats_;
  std::vector<Slot> running_;
  std::vector<int64_t> rows_;           // cache row -> index in running_, -1 = free
  std::vector<int64_t> finished_rows_;  // free cache rows
};

}  // namespace

ContinuousStats generate_continuous(DecoderImpl& decoder, const std::vector<std::vector<int64_t>>& prompts,
                                    const GenerationOptions& o, int64_t slots, const std::function<uint64_t(std::size_t)>& seed_of,
                         const RowDone& on_done) {
  if (slots < 1) throw Error("generation slots " + expected_found("at least 1", std::to_string(slots)));
  if (o.max_new_tokens < 0) throw Error("max_new_tokens must be >= 0");
  if (!o.use_cache) throw Error("continuous batching needs the KV cache (use_cache)", kExitFailure);
  if (!o.stop_strings.empty() && !o.detokenize) throw Error("stop strings need a detokenizer", kExitFailure);
  check_prompts(decoder.config(), prompts, o.max_new_tokens);
  torch::NoGradGuard no_grad;
  ContinuousDecoder continuous(decoder, prompts, o, slots, seed_of, on_done);
  continuous.run();
  return continuous.stats();
}

}  // namespace psy
