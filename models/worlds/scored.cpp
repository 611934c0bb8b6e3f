// scored.cpp — the scored world: responses read from a file of real scores (per prompt, responses scored by one or
// more proxy reward models and a gold one, maybe with log pi_ref and features). Offers Candidates, so what needs no
// new samples is exact over the file: best-of-n without replacement from each prompt's responses (they are a sample
// of pi_ref), the tilt over the empirical measure, ensembles of the proxy columns.
// Contract: the file is read once, at load (read_data): every named column must exist, every cell of it be a finite
// number, every prompt have the same number of responses and no response id twice — else a ScenarioError at the
// cell (file:line:col) or at the key. The features of response k of prompt p are the named columns, in order:
// feature_columns, gold.column, proxy.columns (each once); World::score_column finds them by name. pi_ref is
// uniform over a prompt's responses (sampled) or exp(log_ref) normalized within its prompt (enumerated); log_ref()
// is the file's log pi_ref where it has one (the score of regularized best-of-n). Its draws are CandidateWorld's.
#include "models/worlds/scored.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "models/worlds/registry.h"
#include "sim/numeric/fnv1a.h"
#include "sim/scenario/check.h"
#include "sim/scenario/csv_read.h"

namespace goodhart {

namespace {

using S = ScoredWorldConfig;

// the numeric columns the scenario names, in feature order, each with the key that names it
std::vector<std::pair<std::string, std::string>> named_columns(const S& w, const Scenario& s) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto add = [&out](const std::string& name, const std::string& key) {
    for (const auto& [n, k] : out)
      if (n == name) return;
    out.emplace_back(name, key);
  };
  for (std::size_t i = 0; i < w.feature_columns.size(); ++i)
    add(w.feature_columns[i], Check::element("world.feature_columns", i));
  if (s.gold.type == "scored") add(s.gold.column, "gold.column");
  if (s.proxy.type == "scored")
    for (std::size_t i = 0; i < s.proxy.columns.size(); ++i)
      add(s.proxy.columns[i], Check::element("proxy.columns", i));
  return out;
}

// the file's bytes; a missing file, a folder or an unreadable one is an error at world.path
std::string read_bytes(const std::filesystem::path& file, const std::string& where) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (!std::filesystem::exists(status))
    throw ScenarioError(where, "world.path", "a score file, but there is no file " + file.string());
  if (std::filesystem::is_directory(status))
    throw ScenarioError(where, "world.path", "a score file, but " + file.string() + " is a folder");
  if (!std::filesystem::is_regular_file(status))  // a FIFO or a device would block or never end
    throw ScenarioError(where, "world.path", "a regular file, but " + file.string() + " is not one");
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in) throw ScenarioError(where, "world.path", "a readable score file: " + file.string());
  return text.str();
}

// a column's index in the header, else an error at the key naming it
std::size_t header_index(const CsvData& csv, const std::string& name, const std::string& key,
                         const Locations& at, const std::string& source) {
  const int c = csv.column(name);
  if (c >= 0) {
    for (std::size_t other = static_cast<std::size_t>(c) + 1; other < csv.header.size(); ++other)
      if (csv.header[other] == name)
        throw ScenarioError(at.where(key), key,
                            "a column of " + source + " named once, but its header has '" + name + "' twice (cells " +
                                std::to_string(c + 1) + " and " + std::to_string(other + 1) + ")");
    return static_cast<std::size_t>(c);
  }
  std::string columns;
  for (const std::string& h : csv.header) columns += (columns.empty() ? "" : ", ") + h;
  throw ScenarioError(at.where(key), key,
                      "a column of " + source + ", but its header (line 1) has no '" + name + "' (its columns: " +
                          columns + ")");
}

// a cell as a finite number
double number_cell(const CsvData& csv, std::size_t r, std::size_t c, const std::string& source,
                   const std::string& key) {
  const std::string& text = csv.rows[r][c];
  double v = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
    throw ScenarioError(csv.where(source, r, c), key,
                        "a finite number in column '" + csv.header[c] + "', got " +
                            (text.empty() ? std::string("an empty cell") : "'" + text + "'"));
  return v;
}

// the file parsed, by its digest: each point of a sweep reads the file again (to see it has not changed) but parses
// it once; one file is kept (the last), which is what a sweep over one dump uses
std::shared_ptr<const CsvData> parse_once(const std::string& bytes, const std::string& digest,
                                          const std::string& source) {
  static std::mutex mutex;
  static std::string kept_digest, kept_source;
  static std::shared_ptr<const CsvData> kept;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    if (kept && kept_digest == digest && kept_source == source) return kept;
  }
  std::shared_ptr<const CsvData> parsed;
  try {
    parsed = std::make_shared<const CsvData>(parse_csv(bytes, source));
  } catch (const CsvError& e) {
    throw ScenarioError(e.where, "world.path", e.expected);
  }
  const std::lock_guard<std::mutex> lock(mutex);
  kept_digest = digest, kept_source = source, kept = parsed;
  return parsed;
}

// reads the file into w.data and sets world.dim and world.prompts from it
void read_scores(void* config, Scenario& s, const Locations& at, const std::string& scenario_file) {
  S& w = *static_cast<S*>(config);
  // its gold and proxy are columns of the file (or gold + an error)
  if (s.gold.type != "scored")
    throw ScenarioError(at.where("gold.type"), "gold.type",
                        "scored in a scored world (its gold is a column of the file), got " + s.gold.type);
  if (s.proxy.type != "scored" && s.proxy.type != "noisy")
    throw ScenarioError(at.where("proxy.type"), "proxy.type",
                        "scored (columns of the file) or noisy (gold + error) in a scored world, got " + s.proxy.type);
  const std::string path_at = at.where("world.path");
  if (w.path.empty()) throw ScenarioError(path_at, "world.path", "the score file to read (a CSV file)");
  for (const char* key : {"world.dim", "world.prompts"})
    if (at.at.count(key))
      throw ScenarioError(at.where(key), key, "no value: a scored world's file sets it (its columns and prompts)");
  std::filesystem::path file = w.path;
  const std::filesystem::path scenario(scenario_file);
  std::error_code ec;
  if (file.is_relative() && std::filesystem::is_regular_file(scenario, ec)) file = scenario.parent_path() / file;
  const std::string bytes = read_bytes(file, path_at), source = file.string();
  const std::string digest = fnv1a_hex(bytes);
  if (!w.data_digest.empty() && w.data_digest != digest)
    throw ScenarioError(at.where("world.data_digest"), "world.data_digest",
                        "the digest of " + source + ", " + digest + ", but the file changed since " + w.data_digest +
                            " was recorded");
  const std::shared_ptr<const CsvData> parsed = parse_once(bytes, digest, source);
  const CsvData& csv = *parsed;
  if (csv.rows.empty()) throw ScenarioError(source + ":2:1", "world.path", "at least one scored response (a row)");

  // which cells: the ids, log pi_ref, the numeric columns
  const std::size_t prompt_col = header_index(csv, w.prompt_column, "world.prompt_column", at, source);
  const int response_col = w.response_column.empty()
                               ? -1
                               : static_cast<int>(header_index(csv, w.response_column, "world.response_column",
                                                               at, source));
  const int log_ref_col = w.log_ref_column.empty()
                              ? -1
                              : static_cast<int>(header_index(csv, w.log_ref_column, "world.log_ref_column", at,
                                                              source));
  const auto named = named_columns(w, s);
  std::vector<std::size_t> value_cols;
  for (const auto& [name, key] : named) value_cols.push_back(header_index(csv, name, key, at, source));

  // rows grouped by prompt (in order of first appearance), responses in file order
  std::map<std::string, int> prompt_of;
  std::vector<std::vector<std::size_t>> rows_of;
  std::vector<std::map<std::string, std::size_t>> ids_of;
  auto data = std::make_shared<ScoredData>();
  for (std::size_t r = 0; r < csv.rows.size(); ++r) {
    const std::string& id = csv.rows[r][prompt_col];
    const auto [it, fresh] = prompt_of.emplace(id, static_cast<int>(rows_of.size()));
    if (fresh) {
      rows_of.emplace_back();
      ids_of.emplace_back();
      data->prompt_ids.push_back(id);
    }
    if (response_col >= 0) {
      const std::string& rid = csv.rows[r][static_cast<std::size_t>(response_col)];
      const auto [seen, first] = ids_of[it->second].emplace(rid, r);
      if (!first)
        throw ScenarioError(csv.where(source, r, static_cast<std::size_t>(response_col)), "world.response_column",
                            "one row per response, but prompt '" + id + "' has response '" + rid +
                                "' twice (line " + std::to_string(csv.row_line[seen->second]) + " and here)");
    }
    rows_of[it->second].push_back(r);
  }
  const std::size_t K = rows_of.front().size();
  for (std::size_t p = 1; p < rows_of.size(); ++p)
    if (rows_of[p].size() != K)
      throw ScenarioError(csv.where(source, rows_of[p].front(), prompt_col), "world.prompt_column",
                          "every prompt with the same number of responses (" + std::to_string(K) + ", as prompt '" +
                              data->prompt_ids.front() + "'), but prompt '" + data->prompt_ids[p] + "' has " +
                              std::to_string(rows_of[p].size()));

  // the values, row p*K + k
  data->prompts = static_cast<int>(rows_of.size());
  data->responses = static_cast<int>(K);
  for (const auto& [name, key] : named) data->columns.push_back(name);
  data->values.resize(static_cast<Eigen::Index>(rows_of.size() * K), static_cast<Eigen::Index>(named.size()));
  if (log_ref_col >= 0) data->log_ref.resize(rows_of.size() * K);
  for (std::size_t p = 0; p < rows_of.size(); ++p)
    for (std::size_t k = 0; k < K; ++k) {
      const std::size_t r = rows_of[p][k], row = p * K + k;
      for (std::size_t j = 0; j < value_cols.size(); ++j) {
        const double v = number_cell(csv, r, value_cols[j], source, named[j].second);
        if (std::fabs(v) > 3.0e38)
          throw ScenarioError(csv.where(source, r, value_cols[j]), named[j].second,
                              "a number within float range (|x| <= 3e38), got " + csv.rows[r][value_cols[j]]);
        data->values(static_cast<Eigen::Index>(row), static_cast<Eigen::Index>(j)) = static_cast<float>(v);
      }
      if (log_ref_col >= 0)
        data->log_ref[row] = number_cell(csv, r, static_cast<std::size_t>(log_ref_col), source,
                                         "world.log_ref_column");
    }
  w.data_digest = digest;
  w.data = std::move(data);
  s.world.dim = static_cast<int>(named.size());
  s.world.prompts = static_cast<int>(rows_of.size());
}

class ScoredWorld final : public CandidateWorld {
 public:
  explicit ScoredWorld(const WorldConfig& world) : CandidateWorld(world.dim, world.prompts) {
    const S& cfg = world.get<S>();
    if (!cfg.data) throw std::logic_error("the scored world's file was not read (load_scenario reads it)");
    const ScoredData& d = *cfg.data;
    const int P = d.prompts, K = d.responses;
    columns_ = d.columns;
    c_.count = K;
    c_.features = d.values;
    c_.sampled = cfg.responses == "sampled";
    c_.log_ref = RowMatrixXd::Constant(P, K, -std::log(static_cast<double>(K)));
    file_log_ref_ = c_.log_ref;
    if (!d.log_ref.empty()) {
      file_log_ref_ = Eigen::Map<const RowMatrixXd>(d.log_ref.data(), P, K);
      if (!c_.sampled) {
        // pi_ref's support: exp(log_ref) normalized within each prompt
        for (int p = 0; p < P; ++p) {
          const double m = file_log_ref_.row(p).maxCoeff();
          const double lse = m + std::log((file_log_ref_.row(p).array() - m).exp().sum());
          c_.log_ref.row(p) = file_log_ref_.row(p).array() - lse;
        }
        file_log_ref_ = c_.log_ref;
      }
    }
  }

  int score_column(const std::string& name) const override {
    const auto it = std::find(columns_.begin(), columns_.end(), name);
    return it == columns_.end() ? -1 : static_cast<int>(it - columns_.begin());
  }

  double log_ref(const Response& r) const override { return file_log_ref_(r.prompt, r.candidate); }

 private:
  RowMatrixXd file_log_ref_;  // the file's log pi_ref (normalized when enumerated); pi_ref's own where it has none
  std::vector<std::string> columns_;
};

ConfigType config_type() {
  ConfigType t = typed_config_type<S>(
      "world", "scored",
      "responses read from a file of real scores (a CSV file, one row per response): per prompt, responses "
      "scored by proxy reward models and a gold one. `world.dim` and `world.prompts` come from the file",
      {});
  t.table = {{
      field<S>("path", &S::path, "the score file (CSV with a header), relative to the scenario file's folder")
          .shown_default("— (required)"),
      field<S>("prompt_column", &S::prompt_column, "the column naming the prompt a row answers"),
      field<S>("response_column", &S::response_column,
               "the column naming the response within its prompt (each once); \"\": none"),
      field<S>("log_ref_column", &S::log_ref_column,
               "log pi_ref of each response (the score of regularized best-of-n; with `responses: enumerated`, "
               "pi_ref itself); \"\": none"),
      field<S>("feature_columns", &S::feature_columns,
               "numeric columns kept as features besides the scores (for a noisy proxy's or a policy's use)"),
      field<S>("responses", &S::responses,
               "sampled: each prompt's responses are draws from pi_ref, so pi_ref is their empirical measure "
               "(uniform) and best-of-n draws from them without replacement; enumerated: they are pi_ref's whole "
               "support with probabilities exp(log_ref) normalized within the prompt (needs log_ref_column), so "
               "best-of-n is the exact distribution over them",
               one_of({"sampled", "enumerated"})),
      field<S>("data_digest", &S::data_digest,
               "the FNV-1a digest of the file, set when it is read (so results name the data they came from); "
               "given, the file must still have it")
          .shown_default("the file's"),
  }};
  t.read_data = read_scores;
  t.validate = [](const void* c, const Scenario&, const Check& k, const std::string& path) {
    if (static_cast<const S*>(c)->responses == "enumerated" && static_cast<const S*>(c)->log_ref_column.empty())
      k.fail(path + ".log_ref_column", "the column of log pi_ref, for responses: enumerated (pi_ref's support)");
  };
  return t;
}

const WorldRegistration registered(config_type(),
                                   {"scored",
                                    [](const WorldConfig& c) -> std::unique_ptr<const World> {
                                      return std::make_unique<ScoredWorld>(c);
                                    },
                                    [](const WorldConfig& c) {
                                      const auto& data = c.get<S>().data;
                                      return WorldAbilities{data ? data->responses : 0, false,
                                                            c.get<S>().responses == "sampled"};
                                    }});

}  // namespace

}  // namespace goodhart
