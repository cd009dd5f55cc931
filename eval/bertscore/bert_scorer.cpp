#include "eval/bertscore/bert_scorer.h"

#include <algorithm>
#include <numeric>

#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"

namespace psy::eval {

namespace {

torch::Device parse_device(const std::string& name) {
  try {
    torch::Device d(name);
    if (d.is_cuda() && !torch::cuda::is_available())
      throw Error("BERTScore device '" + name + "': CUDA is not available in this build or machine", kExitFailure);
    return d;
  } catch (const c10::Error&) {
    throw Error("BERTScore device: " + expected_found("cpu, cuda or cuda:N", "'" + name + "'"));
  }
}

std::string require_model_dir(const std::string& dir) {
  if (dir.empty()) throw Error("BERTScore needs a model folder (config.json, *.safetensors, tokenizer files); none was given");
  if (!path_exists(dir + "/config.json"))
    throw Error(ErrorLocation{dir, 0, 0, "", "", ""}, "not a Hugging Face model folder: config.json is missing");
  return dir;
}

}  // namespace

BertScoreDefault bertscore_default_for_language(const std::string& lang) {
  if (lang == "en") return {"roberta-large", 17};
  if (lang == "zh") return {"bert-base-chinese", 8};
  return {"bert-base-multilingual-cased", 9};
}

BertScorer::BertScorer(BertScoreOptions options)
    : options_(std::move(options)),
      device_(parse_device(options_.device)),
      encoder_(std::make_unique<TransformerEncoder>(require_model_dir(options_.model_dir), options_.num_layers, device_,
                                                    parse_encoder_dtype(options_.dtype))),
      tokenizer_(SentenceTokenizer::load(options_.model_dir, static_cast<size_t>(encoder_->config().max_input_length()))) {
  options_.num_layers = static_cast<int>(encoder_->num_layers());
  if (options_.batch_size < 1) throw Error("BERTScore batch size: " + expected_found("at least 1", std::to_string(options_.batch_size)));
  if (static_cast<int64_t>(tokenizer_.model_max_length()) > encoder_->config().max_input_length())
    throw Error(ErrorLocation{options_.model_dir + "/tokenizer_config.json", 0, 0, "", "", "model_max_length"},
                expected_found("at most " + std::to_string(encoder_->config().max_input_length()) + " (the position table of config.json)",
                               std::to_string(tokenizer_.model_max_length())));
  if (!options_.baseline_path.empty()) {
    baseline_ = read_rescale_baseline(options_.baseline_path, options_.num_layers);
    has_baseline_ = true;
  }
}

void BertScorer::clear_cache() {
  ref_cache_.clear();
  idf_refs_.clear();
  idf_ = IdfWeights{};
}

void BertScorer::embed_missing(const std::vector<std::string>& texts, const std::vector<EncodedSentence>& encoded,
                               std::unordered_map<std::string, torch::Tensor>& cache) {
  std::vector<std::string> todo;
  std::vector<std::vector<int64_t>> ids;
  std::unordered_map<std::string, size_t> queued;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (cache.count(texts[i]) || !queued.emplace(texts[i], todo.size()).second) continue;
    todo.push_back(texts[i]);
    ids.push_back(encoded[i].ids);
  }
  if (todo.empty()) return;

  // Longest first, so each batch pads to similar lengths.
  std::vector<size_t> order(todo.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a].size() > ids[b].size(); });

  c10::InferenceMode inference;
  const size_t max_batch = static_cast<size_t>(options_.batch_size);
  for (size_t begin = 0; begin < order.size();) {
    // Up to batch_size sentences, fewer when padding would exceed 10% of the batch's tokens.
    const size_t longest = ids[order[begin]].size();
    size_t end = begin + 1, tokens = longest;
    while (end < order.size() && end - begin < max_batch) {
      const size_t with = tokens + ids[order[end]].size();
      if (static_cast<double>(with) < 0.9 * static_cast<double>(longest * (end - begin + 1))) break;
      tokens = with;
      ++end;
    }
    const int64_t b = static_cast<int64_t>(end - begin);
    const auto [id_tensor, mask] = right_padded_batch(ids, order, begin, end, tokenizer_.pad_id());
    const auto hidden = encoder_->forward(id_tensor.to(device_), mask.to(device_)).to(torch::kFloat32);
    for (int64_t row = 0; row < b; ++row) {
      const size_t idx = order[begin + static_cast<size_t>(row)];
      const int64_t len = static_cast<int64_t>(ids[idx].size());
      cache[todo[idx]] = normalize_rows(hidden[row].narrow(0, 0, len)).contiguous();
    }
    begin = end;
  }
}

BertScores BertScorer::score(const std::vector<std::string>& hyps, const std::vector<std::string>& refs) {
  if (hyps.size() != refs.size())
    throw Error("BERTScore: " + expected_found(std::to_string(hyps.size()) + " references (one per hypothesis)", std::to_string(refs.size())));
  BertScores out;
  out.rescaled = has_baseline_;
  const size_t n = hyps.size();
  if (n == 0) return out;
  // On the CPU, LibTorch's OpenMP workers busy-wait between parallel regions while OpenBLAS's own
  // threads run each GEMM; on a busy machine the spinning took most of the CPU (measured on 2
  // cores at load 8: 33 s for 200 pairs, 4.3 s with OMP_WAIT_POLICY=PASSIVE). The GEMMs, nearly
  // all of the work, stay parallel in OpenBLAS; the element-wise operations run on one thread.
  struct IntraOpThreads {
    int saved;
    explicit IntraOpThreads(bool cpu) : saved(cpu ? at::get_num_threads() : 0) {
      if (saved > 1) at::set_num_threads(1);
    }
    ~IntraOpThreads() {
      if (saved > 1) at::set_num_threads(saved);
    }
  } intra_op(device_.is_cpu() && options_.cpu_single_intra_op);

  std::vector<EncodedSentence> hyp_enc(n), ref_enc(n);
  for (size_t i = 0; i < n; ++i) {
    hyp_enc[i] = tokenizer_.sent_encode(hyps[i]);
    ref_enc[i] = tokenizer_.sent_encode(refs[i]);
    out.truncated_texts += hyp_enc[i].truncated + ref_enc[i].truncated;
  }
  const IdfWeights* idf = nullptr;
  if (options_.idf) {
    if (idf_refs_ != refs) {
      std::vector<std::vector<int64_t>> ref_ids;
      ref_ids.reserve(n);
      for (const auto& e : ref_enc) ref_ids.push_back(e.ids);
      idf_ = compute_idf(ref_ids, tokenizer_.cls_id(), tokenizer_.sep_id());
      idf_refs_ = refs;
    }
    idf = &idf_;
  }

  embed_missing(refs, ref_enc, ref_cache_);
  std::unordered_map<std::string, torch::Tensor> hyp_cache;
  for (size_t i = 0; i < n; ++i) {
    const auto it = ref_cache_.find(hyps[i]);  // a hyp equal to a reference reuses its embedding
    if (it != ref_cache_.end()) hyp_cache.emplace(hyps[i], it->second);
  }
  embed_missing(hyps, hyp_enc, hyp_cache);

  auto weighted = [&](const torch::Tensor& emb, const std::vector<int64_t>& ids) {
    const auto w = token_weights(ids, idf, tokenizer_.cls_id(), tokenizer_.sep_id());
    return WeightedEmbedding{emb, torch::tensor(w, torch::kFloat64).to(device_)};
  };
  std::vector<WeightedEmbedding> hyp_items, ref_items;
  hyp_items.reserve(n);
  ref_items.reserve(n);
  std::vector<const WeightedEmbedding*> hp, rp;
  for (size_t i = 0; i < n; ++i) {
    hyp_items.push_back(weighted(hyp_cache.at(hyps[i]), hyp_enc[i].ids));
    ref_items.push_back(weighted(ref_cache_.at(refs[i]), ref_enc[i].ids));
  }
  for (size_t i = 0; i < n; ++i) {
    hp.push_back(&hyp_items[i]);
    rp.push_back(&ref_items[i]);
  }
  const auto matched = greedy_match(hp, rp, options_.batch_size);

  out.precision.resize(n);
  out.recall.resize(n);
  out.f1.resize(n);
  for (size_t i = 0; i < n; ++i) {
    MatchScore s = matched[i];
    if (hyp_enc[i].ids.size() == 2 || ref_enc[i].ids.size() == 2) {
      s = MatchScore{};
      ++out.empty_pairs;
    }
    if (has_baseline_) {
      s.precision = RescaleBaseline::rescale(s.precision, baseline_.p);
      s.recall = RescaleBaseline::rescale(s.recall, baseline_.r);
      s.f1 = RescaleBaseline::rescale(s.f1, baseline_.f);
    }
    out.precision[i] = s.precision;
    out.recall[i] = s.recall;
    out.f1[i] = s.f1;
  }
  return out;
}

}  // namespace psy::eval
