// key_docs.h — the key tables of docs/scenario-keys.md, generated from the field tables (fields.h), so the docs
// cannot drift from what the parser reads. `goodhart keys` prints them; `goodhart keys --update FILE` rewrites them.
// Contract: a table's name is "top", a section without types (preferences, eval, output, proxy.noise), a typed
// section's common keys (world, gold, proxy, optimizer), a type ("world.gaussian", "optimizer.dpo") or "aliases".
// In a markdown file, a block from a line "<!-- keys NAME -->" to a line "<!-- end keys -->" holds NAME's table;
// update_key_docs rewrites the blocks and nothing else.
#pragma once

#include <string>
#include <vector>

namespace goodhart {

std::vector<std::string> key_table_names();      // every name, in the docs' order
std::string key_table(const std::string& name);  // markdown; throws std::invalid_argument for an unknown name
// `markdown` with every block's table regenerated; throws std::invalid_argument naming the line of an unknown
// table or a block without its end
std::string update_key_docs(const std::string& markdown);

}  // namespace goodhart
