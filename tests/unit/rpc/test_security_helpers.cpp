#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "rpc/request_checks.hpp"
#include "rpc/secret.hpp"
#include "rpc/state_files.hpp"

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

TEST_CASE("secret file problems are reported") {
    TempDir dir;
    auto empty = dir.path / "empty";
    std::ofstream(empty) << "\n";
    CHECK_THROWS_AS(load_or_create_secret(empty), std::runtime_error);
    auto short_secret = dir.path / "short";
    std::ofstream(short_secret) << "abc\n";
    CHECK_THROWS_AS(load_or_create_secret(short_secret), std::runtime_error);
    CHECK_THROWS_AS(load_or_create_secret(dir.path / "missing-dir" / "rpc.secret"),
                    std::runtime_error);
    auto user_written = dir.path / "mine";
    std::ofstream(user_written) << "  my-own-long-secret-value  \n";
    CHECK(load_or_create_secret(user_written) == "my-own-long-secret-value");
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
