#include "core/storage/os_error.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <initializer_list>

using namespace btd;

TEST_CASE("out of descriptors, space or memory is transient; the rest is not") {
    for (int err : {EMFILE, ENFILE, ENOSPC, EDQUOT, ENOMEM, ENOBUFS, EAGAIN})
        CHECK(is_transient_os_error(err));
    for (int err : {0, EACCES, EPERM, EROFS, EIO, ENOENT, EISDIR, EFBIG, ELOOP})
        CHECK_FALSE(is_transient_os_error(err));
}
