#include <doctest/doctest.h>

#include <string>

#include "core/util/units.hpp"

using namespace btd;

TEST_CASE("sizes: a number with an optional binary unit, in any common spelling") {
    constexpr std::int64_t max = std::int64_t(1) << 50;
    CHECK(parse_size("0", max) == 0);
    CHECK(parse_size("4096", max) == 4096);
    CHECK(parse_size("4096b", max) == 4096);
    for (const char* kib : {"16K", "16k", "16KB", "16kb", "16KiB", "16kib"}) {
        CAPTURE(kib);
        CHECK(parse_size(kib, max) == 16 * 1024);
    }
    CHECK(parse_size("2M", max) == 2 * 1024 * 1024);
    CHECK(parse_size("2MiB", max) == 2 * 1024 * 1024);
    CHECK(parse_size("3g", max) == 3LL * 1024 * 1024 * 1024);
    CHECK(parse_size("3GB", max) == 3LL * 1024 * 1024 * 1024);
    CHECK(parse_size("1.5M", max) == 1572864);
    CHECK(parse_size("0.5K", max) == 512);
    CHECK(parse_size("1.0001K", max) == 1024);  // rounded to the nearest byte
}

TEST_CASE("sizes: anything else is refused, never half-read") {
    constexpr std::int64_t max = 1000;
    for (const char* bad : {"", "K", "MiB", "-5", "+5", "1e3", "0x10", "5X", "5ib", "5 K", " 5",
                            "5K ", "inf", "nan", "1..5", "1.5.2", "5KK", "5k/s"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_size(bad, std::int64_t(1) << 50));
    }
    CHECK(parse_size("1000", max) == 1000);
    CHECK_FALSE(parse_size("1001", max));
    CHECK_FALSE(parse_size("1K", max));
}

TEST_CASE("rates: the size syntax plus /s and unlimited, up to 1 TiB/s") {
    CHECK(parse_rate("0") == 0);
    CHECK(parse_rate("unlimited") == 0);
    CHECK(parse_rate("Unlimited") == 0);
    CHECK(parse_rate("500") == 500);
    CHECK(parse_rate("500K") == 500 * 1024);
    CHECK(parse_rate("2M") == 2 * 1024 * 1024);
    CHECK(parse_rate("2m") == 2 * 1024 * 1024);  // the config file's spelling
    CHECK(parse_rate("1k") == 1024);
    CHECK(parse_rate("1.5MiB/s") == 1572864);
    CHECK(parse_rate("1.5MB/s") == 1572864);
    CHECK(parse_rate("100/s") == 100);
    CHECK(parse_rate("1024G") == kMaxRate);
    CHECK_FALSE(parse_rate("1025G"));
    CHECK_FALSE(parse_rate(std::to_string(kMaxRate + 1)));
    for (const char* bad :
         {"", "/s", "K/s", "fast", "-1", "5x", "1e3", "5/S/s", "unlimited/s", "2M/h", "99999G"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_rate(bad));
    }
}

TEST_CASE("the syntax description names bytes/s and an example of each form") {
    CHECK(kRateSyntax.find("bytes/s") != std::string_view::npos);
    CHECK(kRateSyntax.find("500K") != std::string_view::npos);
    CHECK(kRateSyntax.find("1.5MiB/s") != std::string_view::npos);
}
