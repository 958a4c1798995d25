// Registers one GoogleTest per vector case of every file embedded from tests/vectors/, so the
// same binary runs natively and under Node (em++ build) with no filesystem access.
#include <set>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "embedded_vectors.hpp"
#include "suites.hpp"

namespace {

using nlohmann::json;
using progress::vectors::EmbeddedFile;

class VectorTest : public ::testing::Test {
 public:
  VectorTest(void (*run)(const json&), json vcase) : run_(run), case_(std::move(vcase)) {}
  void TestBody() override { run_(case_); }

 private:
  void (*run_)(const json&);
  json case_;
};

std::string test_name(std::string text) {
  for (char& c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return text;
}

void register_file(const EmbeddedFile& file, std::set<std::string>& ids) {
  json doc = json::parse(file.text);  // a malformed vector file must fail loudly
  const std::string suite = doc.at("suite").get<std::string>();
  void (*run)(const json&) = nullptr;
  if (suite == "codec") run = progress::vectors::run_codec_case;
  else if (suite == "hub") run = progress::vectors::run_hub_case;
  else if (suite == "client") run = progress::vectors::run_client_case;
  else throw std::runtime_error(std::string(file.name) + ": unknown suite " + suite);
  for (const auto& vcase : doc.at("cases")) {
    const std::string id = vcase.at("id").get<std::string>();
    if (!vcase.contains("description")) throw std::runtime_error(id + ": every case needs a description");
    if (!ids.insert(id).second) throw std::runtime_error("duplicate case id " + id);
    ::testing::RegisterTest(test_name(file.name).c_str(), test_name(id).c_str(), nullptr, nullptr,
                            file.name, 0, [run, vcase]() -> ::testing::Test* { return new VectorTest(run, vcase); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::set<std::string> ids;
  for (const auto& file : progress::vectors::embedded_files()) register_file(file, ids);
  if (ids.empty()) {
    std::fprintf(stderr, "no vector cases found\n");
    return 1;
  }
  return RUN_ALL_TESTS();
}
