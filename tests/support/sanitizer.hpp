#pragma once
// BTD_TEST_UNDER_ASAN is defined in the AddressSanitizer build. gcc says so with
// __SANITIZE_ADDRESS__, clang 14 only through __has_feature.

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BTD_TEST_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(BTD_TEST_UNDER_ASAN)
#define BTD_TEST_UNDER_ASAN 1
#endif
