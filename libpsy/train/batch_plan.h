// Which samples go into which micro-batch, per epoch (no LibTorch).
//
// Without grouping: a seeded shuffle cut into micro-batches. With group_by_length (as
// transformers' LengthGroupedSampler): the shuffled order is cut into mega-batches of
// 50 micro-batches, each sorted by length (longest first) and cut into micro-batches, so
// samples of similar length share a batch and padding shrinks; the micro-batch holding the
// longest sample goes first (an out-of-memory error shows at once). Every order comes from
// psy::Rng(seed, epoch), so a resumed run sees exactly the same batches.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace psy {

using MicroBatch = std::vector<size_t>;  // indices into the sample list

// shuffle = false keeps the samples' own order (no random draw at all; with grouping, only the
// length sort and the longest-first move reorder them).
std::vector<MicroBatch> plan_epoch(const std::vector<size_t>& lengths, size_t micro_batch, bool group_by_length,
                                   uint64_t seed, long epoch, bool shuffle = true);

// Packing: greedy first-fit of the (seeded, shuffled) samples into bins of at most
// `max_len` tokens (data.max_seq_len). Each bin is a list of sample indices to pack
// (collate.h's pack_sequences: padding-free, each sample its own sequence). A sample longer
// than max_len is refused (refuse_overlong), never packed across the limit.
std::vector<MicroBatch> plan_packs(const std::vector<size_t>& lengths, size_t max_len, uint64_t seed,
                                   const std::vector<std::string>& labels = {});

// Throws psy::Error naming the first sample longer than max_len (its label when `labels` has
// one, else "sample #i"), its length and the limit. The sample builder already fits every
// sample to data.max_seq_len (dropping the oldest history, then the sample), so this catches
// sequences built elsewhere.
void refuse_overlong(const std::vector<size_t>& lengths, size_t max_len, const std::vector<std::string>& labels = {});

// Tokens a micro-batch occupies once right-padded to its longest member.
size_t padded_tokens(const std::vector<size_t>& lengths, const MicroBatch& batch);

}  // namespace psy
