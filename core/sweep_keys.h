// richlazy/core/sweep_keys.h: what the name of a swept key says about it.
// Tables, summaries and the report all shorten keys and find the seed axes the same way.
#pragma once

#include <string>

namespace richlazy {

/// The last component of a dotted key: "init.W_rec.rank" -> "rank".
std::string short_key(const std::string& key);

/// Whether a swept key varies a seed (its last component ends in "seed": `seed`,
/// `task.teacher_seed`); tables and figures average over these keys.
bool is_seed_key(const std::string& key);

}  // namespace richlazy
