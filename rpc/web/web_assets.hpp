#pragma once
// The page's files (rpc/web/*.html, *.css, *.js), compiled into btd: web_assets.cpp is generated
// by embed_assets.cmake at build time, so the page needs no install dir and no network.
#include <string_view>

namespace btd::rpc::web {

struct WebAsset {
    std::string_view path;          // URL path, e.g. "/" or "/app.js"
    std::string_view content_type;  // with charset for text
    std::string_view body;
};

// The asset served at `path`, or nullptr.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace btd::rpc::web
