#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "rpc/transport/request_checks.hpp"
#include "rpc/transport/safe_file.hpp"
#include "rpc/transport/secret.hpp"
#include "rpc/transport/state_files.hpp"

using namespace btd::rpc;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "btd-rpc-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("host allow-list") {
    std::vector<std::string> none;
    CHECK(host_allowed("localhost", none));
    CHECK(host_allowed("localhost:9092", none));
    CHECK(host_allowed("127.0.0.1:1", none));
    CHECK(host_allowed("[::1]", none));
    CHECK(host_allowed("[::1]:9092", none));
    CHECK(host_allowed(" LocalHost:9092 ", none));
    CHECK_FALSE(host_allowed("", none));
    CHECK_FALSE(host_allowed("::1", none));  // unbracketed v6 is not a valid Host
    CHECK_FALSE(host_allowed("localhost:", none));
    CHECK_FALSE(host_allowed("localhost:abc", none));
    CHECK_FALSE(host_allowed("localhost:9092:1", none));
    CHECK_FALSE(host_allowed("[::1]x", none));
    CHECK_FALSE(host_allowed("localhost.attacker.com", none));
    CHECK_FALSE(host_allowed("user@localhost", none));
    CHECK_FALSE(host_allowed("192.168.1.5:9092", none));
    std::vector<std::string> extra = {"NAS.lan", "10.0.0.2:9092"};
    CHECK(host_allowed("nas.lan:9092", extra));
    CHECK(host_allowed("10.0.0.2:9092", extra));
    CHECK_FALSE(host_allowed("10.0.0.2:9093", extra));
}

TEST_CASE("origin check") {
    CHECK(origin_allowed("", false, {}));
    CHECK_FALSE(origin_allowed("http://evil.example", true, {}));
    CHECK_FALSE(origin_allowed("null", true, {}));
    CHECK(origin_allowed("http://LOCALHOST:8080", true, {"http://localhost:8080"}));
    CHECK_FALSE(origin_allowed("http://localhost:8081", true, {"http://localhost:8080"}));
}

TEST_CASE("bearer token and content type") {
    CHECK(bearer_token_matches("Bearer abc", "abc"));
    CHECK(bearer_token_matches("BEARER   abc ", "abc"));
    CHECK_FALSE(bearer_token_matches("Bearer abcd", "abc"));
    CHECK_FALSE(bearer_token_matches("Bearer ab", "abc"));
    CHECK_FALSE(bearer_token_matches("Basic abc", "abc"));
    CHECK_FALSE(bearer_token_matches("Bearer ", ""));
    CHECK_FALSE(bearer_token_matches("abc", "abc"));
    CHECK(is_json_content_type("application/json"));
    CHECK(is_json_content_type("application/json; charset=UTF-8"));
    CHECK_FALSE(is_json_content_type("application/jsonp"));
    CHECK_FALSE(is_json_content_type("text/plain"));
    CHECK_FALSE(is_json_content_type(""));
}

TEST_CASE("secrets compare by content, any length") {
    CHECK(secrets_equal("abc", "abc"));
    CHECK_FALSE(secrets_equal("abc", "abd"));
    CHECK_FALSE(secrets_equal("abc", "abcd"));
    CHECK(secrets_equal("", ""));
}

TEST_CASE("secret file is created 0600 with 64 hex characters, then reused") {
    TempDir dir;
    auto file = dir.path / std::string(kRpcSecretFile);
    auto secret = load_or_create_secret(file);
    CHECK(secret.size() == 64);
    CHECK(secret.find_first_not_of("0123456789abcdef") == std::string::npos);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(read_file(file) == secret + "\n");
    CHECK(load_or_create_secret(file) == secret);
    CHECK(generate_secret() != generate_secret());

    // A readable-by-others file is still used (with a warning).
    ::chmod(file.c_str(), 0644);
    CHECK(load_or_create_secret(file) == secret);
}

namespace {

// Files in `dir` whose name starts with `prefix`.
std::vector<std::filesystem::path> files_starting(const std::filesystem::path& dir,
                                                  const std::string& prefix) {
    std::vector<std::filesystem::path> out;
    for (auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
    return out;
}

bool is_new_secret(const std::string& secret) {
    return secret.size() == 64 && secret.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

TEST_CASE("an unusable secret file is set aside and a new secret created") {
    for (std::string content :
         {std::string(), std::string("\n"), std::string("abc\n"),
          std::string("not printable\x01 0123456789"), std::string(5000, 'a')}) {
        CAPTURE(content.size());
        TempDir dir;
        auto file = dir.path / "rpc.secret";
        std::ofstream(file, std::ios::binary) << content;
        std::string secret;
        REQUIRE_NOTHROW(secret = load_or_create_secret(file));
        CHECK(is_new_secret(secret));
        CHECK(read_file(file) == secret + "\n");
        auto aside = files_starting(dir.path, "rpc.secret.corrupt-");
        REQUIRE(aside.size() == 1);
        CHECK(read_file(aside[0]) == content);
        CHECK(files_starting(dir.path, "rpc.secret.tmp").empty());
        CHECK(load_or_create_secret(file) == secret);  // and it is kept from now on
    }
}

TEST_CASE("a FIFO, directory or symlink named rpc.secret neither hangs nor stops the start") {
    TempDir dir;
    auto fifo = dir.path / "fifo.secret";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto start = std::chrono::steady_clock::now();
    auto secret = load_or_create_secret(fifo);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    CHECK(is_new_secret(secret));
    CHECK(std::filesystem::is_regular_file(fifo));
    CHECK(files_starting(dir.path, "fifo.secret.corrupt-").size() == 1);

    auto target = dir.path / "elsewhere";
    std::ofstream(target) << "a-secret-somewhere-else-0123456789\n";
    auto link = dir.path / "link.secret";
    std::filesystem::create_symlink(target, link);
    CHECK(is_new_secret(load_or_create_secret(link)));
    CHECK_FALSE(std::filesystem::is_symlink(link));
    CHECK(read_file(target) == "a-secret-somewhere-else-0123456789\n");  // untouched

    CHECK_THROWS_AS(load_or_create_secret(dir.path / "missing-dir" / "rpc.secret"),
                    std::runtime_error);
    auto user_written = dir.path / "mine";
    std::ofstream(user_written) << "  my-own-long-secret-value  \n";
    CHECK(load_or_create_secret(user_written) == "my-own-long-secret-value");
}

TEST_CASE("parse_secret") {
    CHECK(parse_secret(" 0123456789abcdef\n") == "0123456789abcdef");
    CHECK_FALSE(parse_secret(""));
    CHECK_FALSE(parse_secret("0123456789abcde"));
    CHECK_FALSE(parse_secret("0123456789 abcdef"));
}

TEST_CASE("address file for btctl") {
    using boost::asio::ip::make_address;
    using tcp = boost::asio::ip::tcp;
    CHECK(client_address(tcp::endpoint(make_address("127.0.0.1"), 9092)) == "127.0.0.1:9092");
    CHECK(client_address(tcp::endpoint(make_address("0.0.0.0"), 1234)) == "127.0.0.1:1234");
    CHECK(client_address(tcp::endpoint(make_address("::"), 1234)) == "[::1]:1234");
    CHECK(client_address(tcp::endpoint(make_address("::1"), 5)) == "[::1]:5");
    TempDir dir;
    write_address_file(dir.path, tcp::endpoint(make_address("127.0.0.1"), 40000));
    CHECK(read_file(dir.path / std::string(kRpcAddressFile)) == "127.0.0.1:40000\n");
    CHECK_THROWS(
        write_address_file(dir.path / "nope", tcp::endpoint(make_address("127.0.0.1"), 1)));
}

TEST_CASE("read_regular_file: bounded, no FIFO, no symlink, no directory") {
    TempDir dir;
    auto file = dir.path / "f";
    std::ofstream(file) << "hello";
    CHECK(read_regular_file(file, 5) == "hello");
    auto kind_of = [](const fs::path& p, std::size_t limit) {
        try {
            read_regular_file(p, limit);
        } catch (const StateFileError& e) {
            return e.kind();
        }
        FAIL("no error");
        return StateFileError::Kind::missing;
    };
    CHECK(kind_of(file, 4) == StateFileError::Kind::too_large);
    CHECK(kind_of(dir.path / "absent", 10) == StateFileError::Kind::missing);
    REQUIRE(::mkfifo((dir.path / "fifo").c_str(), 0600) == 0);
    CHECK(kind_of(dir.path / "fifo", 10) == StateFileError::Kind::not_regular);
    fs::create_symlink(file, dir.path / "link");
    CHECK(kind_of(dir.path / "link", 10) == StateFileError::Kind::not_regular);
    CHECK(kind_of(dir.path, 10) == StateFileError::Kind::not_regular);
}

TEST_CASE("set_aside_corrupt renames to <name>.corrupt-<time>, never over an earlier one") {
    TempDir dir;
    auto file = dir.path / "settings.json";
    std::ofstream(file) << "first";
    auto first = set_aside_corrupt(file, "test");
    REQUIRE_FALSE(first.empty());
    CHECK(first.filename().string().rfind("settings.json.corrupt-", 0) == 0);
    CHECK_FALSE(fs::exists(file));
    std::ofstream(file) << "second";
    auto second = set_aside_corrupt(file, "test");
    REQUIRE_FALSE(second.empty());
    CHECK(second != first);
    CHECK(read_file(first) == "first");
    CHECK(read_file(second) == "second");
    CHECK(set_aside_corrupt(dir.path / "absent", "test").empty());
}
