#include "core/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace mediadex {
namespace {

std::string Trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

std::string EnvName(const std::string& key) {
  std::string env = "MEDIADEX_" + key;
  std::transform(env.begin(), env.end(), env.begin(), [](unsigned char c) { return std::toupper(c); });
  return env;
}

}  // namespace

const char* ConfigSourceName(ConfigSource source) {
  switch (source) {
    case ConfigSource::kDefault: return "default";
    case ConfigSource::kFile: return "file";
    case ConfigSource::kEnv: return "env";
    case ConfigSource::kFlag: return "flag";
  }
  return "?";
}

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> kKeys = {
      {"device", "auto", "auto | cpu | cuda | cuda:N | mps (auto: CUDA, else Metal, else CPU)"},
      {"metal_env", "0", "1 = the original app's TF_METAL_DEVICE=1: prefer Metal (MPS)"},
      {"precision", "auto", "fp32 | fp16 | bf16 (GPUs only) | auto (the fastest that keeps the answers: fp32, measured)"},
      {"threads", "0", "CPU threads for inference; 0 = the cores the decoders leave (at least 1)"},
      {"model", "", "model.json (TF.js graph model) or .torchscript (YOLO); empty = bundled CenterNet"},
      {"min_score", "0.2", "drop detections scoring below this (0..1)"},
      {"iou", "0.4", "NMS: a box overlapping a better one by more than this IoU is dropped"},
      {"max_detections", "10", "detections kept per photo (per video frame)"},
      {"tiles", "off", "off | auto | RxC: also detect in overlapping tiles of photos much larger than the model input (small objects in 12 MP photos); auto: 2-3 input sides a tile, at most 3x3 + the whole image"},
      {"preprocess", "fast", "fast: JPEGs decoded at the DCT scale nearest 2x the model input; exact: full decode"},
      {"decode", "auto", "where JPEGs are decoded: cpu | gpu (nvJPEG on the CUDA devices) | auto (both at once on CUDA, else cpu)"},
      {"nvjpeg_workers", "1", "nvJPEG workers per GPU with decode gpu|auto: the GPU's JPEG decoder serves one at a time, while feeders read and check the next files"},
      {"gpu_huffman_workers", "1", "workers per GPU beside nvJPEG's, with decode gpu|auto, that decode JPEGs with nvJPEG's GPU Huffman decoder on the CUDA cores; 0 = none"},
      {"batch_size", "64", "images per forward pass at most; memory may lower it"},
      {"concurrency", "0", "decode workers; 0 = auto: every core beside a CUDA GPU, else 3 (the original app's DEFAULT_CONCURRENCY)"},
      {"max_memory", "8GiB", "ceiling for decoded images in flight plus inference; peak RSS stays under it"},
      {"max_pixels", "100000000", "larger images are refused (decompression bombs)"},
      {"max_decode_seconds", "120", "a file whose decode (a video's sampling) takes longer fails; 0 = no limit"},
      {"catalog", "", "SQLite file (default: $XDG_DATA_HOME/mediadex/catalog.db) or postgres:// URL"},
      {"extensions", "jpg,jpeg,jpe,png,webp,heic,heif,avif,tif,tiff,gif,bmp,mp4,mov,m4v,mkv,webm,avi",
       "file extensions indexed (case-insensitive)"},
      {"include_hidden", "0", "1 = also scan hidden files and folders (.name) and system folders"},
      {"video_interval", "2", "seconds between analysed video frames"},
      // mediadex serve
      {"bind", "127.0.0.1", "serve: address to listen on; beyond loopback a token is required"},
      {"port", "8080", "serve: TCP port; 0 = pick a free one (printed on stdout)"},
      {"token", "", "serve: access token every request must carry (Bearer or the mediadex_token cookie)"},
      {"library", "", "serve: library folders that index runs scan, separated by ':'"},
      {"dev", "0", "serve: 1 = read web/ from the source tree on every request, debug logging"},
      {"thumb_cache_max", "2GiB", "serve: size cap of the thumbnail cache beside the catalog (oldest evicted)"},
  };
  return kKeys;
}

Config::Config() {
  for (const auto& k : ConfigKeys()) values_[k.key] = {k.default_value, ConfigSource::kDefault, "default"};
}

Status Config::Set(const std::string& key, const std::string& value, ConfigSource source,
                   const std::string& origin) {
  auto it = values_.find(key);
  if (it == values_.end()) return InvalidArgument(origin + ": unknown setting '" + key + "'");
  it->second = {value, source, origin};
  return Status::Ok();
}

Status Config::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(path + ": config file not found");
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    line = Trim(line);
    if (line.empty()) continue;
    const auto eq = line.find('=');
    const std::string where = path + ":" + std::to_string(number);
    if (eq == std::string::npos) return InvalidArgument(where + ": expected 'key = value'");
    std::string value = Trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    MDX_RETURN_IF_ERROR(Set(Trim(line.substr(0, eq)), value, ConfigSource::kFile, where));
  }
  return Status::Ok();
}

void Config::LoadEnv() {
  for (const auto& k : ConfigKeys()) {
    const std::string name = EnvName(k.key);
    if (const char* v = std::getenv(name.c_str()); v != nullptr && *v != '\0') {
      (void)Set(k.key, v, ConfigSource::kEnv, name);
    }
  }
  if (const char* metal = std::getenv("TF_METAL_DEVICE"); metal && std::string(metal) == "1") {
    (void)Set("metal_env", "1", ConfigSource::kEnv, "TF_METAL_DEVICE");
  }
}

Status Config::SetFlag(const std::string& key, const std::string& value) {
  std::string flag = "--" + key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return Set(key, value, ConfigSource::kFlag, flag);
}

std::string Config::Get(const std::string& key) const { return Entry(key).value; }

const ConfigValue& Config::Entry(const std::string& key) const {
  auto it = values_.find(key);
  // Asking for a key that is not in ConfigKeys() is a programming error, never user input.
  if (it == values_.end()) std::abort();
  return it->second;
}

Result<int64_t> Config::GetInt(const std::string& key) const {
  const auto& e = Entry(key);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(e.value.c_str(), &end, 10);
  if (e.value.empty() || *end != '\0' || errno != 0) {
    return InvalidArgument(e.origin + ": " + key + " must be an integer, not '" + e.value + "'");
  }
  return static_cast<int64_t>(v);
}

Result<double> Config::GetDouble(const std::string& key) const {
  const auto& e = Entry(key);
  char* end = nullptr;
  const double v = std::strtod(e.value.c_str(), &end);
  if (e.value.empty() || *end != '\0' || !std::isfinite(v)) {
    return InvalidArgument(e.origin + ": " + key + " must be a number, not '" + e.value + "'");
  }
  return v;
}

Result<bool> Config::GetBool(const std::string& key) const {
  const auto& e = Entry(key);
  if (e.value == "1" || e.value == "true" || e.value == "yes" || e.value == "on") return true;
  if (e.value == "0" || e.value == "false" || e.value == "no" || e.value == "off" || e.value.empty()) return false;
  return InvalidArgument(e.origin + ": " + key + " must be true or false, not '" + e.value + "'");
}

Result<uint64_t> Config::GetBytes(const std::string& key) const {
  const auto& e = Entry(key);
  auto bytes = ParseBytes(e.value);
  if (!bytes.ok()) return bytes.status().WithContext(e.origin + ": " + key);
  return bytes;
}

std::string Config::DefaultFilePath() {
  namespace fs = std::filesystem;
  std::string base;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    base = std::string(home) + "/.config";
  } else {
    return "";
  }
  const std::string path = base + "/mediadex/config";
  std::error_code ec;
  return fs::exists(path, ec) ? path : "";
}

Result<uint64_t> ParseBytes(const std::string& text) {
  const std::string t = Trim(text);
  char* end = nullptr;
  const double number = std::strtod(t.c_str(), &end);
  if (t.empty() || end == t.c_str() || !(number >= 0) || !std::isfinite(number)) {
    return InvalidArgument("'" + text + "' is not a size (e.g. 8GiB, 512MiB)");
  }
  std::string unit = Trim(end);
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  double scale = 1;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") scale = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib") scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib") scale = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib") scale = 1024.0 * 1024 * 1024 * 1024;
  else return InvalidArgument("'" + text + "': unknown size unit '" + unit + "'");
  return static_cast<uint64_t>(number * scale);
}

std::string FormatBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace mediadex
