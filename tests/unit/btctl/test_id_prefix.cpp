#include <doctest/doctest.h>

#include "cli-remote/cli_error.hpp"
#include "cli-remote/id_prefix.hpp"

using namespace btd::btctl;

namespace {

const std::vector<KnownTorrent> kKnown = {
    {"ab12000000000000000000000000000000000000", "alpha"},
    {"ab34000000000000000000000000000000000000", "beta"},
    {"cd00000000000000000000000000000000000000", "gamma"},
};

std::string failure(const std::vector<std::string>& prefixes) {
    try {
        resolve_id_prefixes(prefixes, kKnown);
    } catch (const CliError& e) {
        CHECK(e.exit_code() == exit_code::usage);
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("unique prefixes resolve, case-insensitively, without duplicates") {
    auto ids =
        resolve_id_prefixes({"AB1", "c", "ab12000000000000000000000000000000000000"}, kKnown);
    REQUIRE(ids.size() == 2);
    CHECK(ids[0] == kKnown[0].id);
    CHECK(ids[1] == kKnown[2].id);
}

TEST_CASE("ambiguous prefixes list the candidates") {
    auto msg = failure({"ab"});
    CHECK(msg.find("ambiguous") != std::string::npos);
    CHECK(msg.find(kKnown[0].id + "  alpha") != std::string::npos);
    CHECK(msg.find(kKnown[1].id + "  beta") != std::string::npos);
    CHECK(msg.find("gamma") == std::string::npos);
}

TEST_CASE("unknown and malformed ids") {
    CHECK(failure({"ef"}).find("no torrent with id 'ef'") != std::string::npos);
    CHECK(failure({"xyz"}).find("not a torrent id") != std::string::npos);
    CHECK(failure({""}).find("not a torrent id") != std::string::npos);
    CHECK(failure({std::string(41, 'a')}).find("not a torrent id") != std::string::npos);
    CHECK_FALSE(failure({"cd"}).size());
}
