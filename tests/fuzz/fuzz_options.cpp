// Sanitizer defaults linked into every harness, so a fuzzer run by hand behaves as in
// scripts/fuzz: undefined behaviour stops the run like a crash (libFuzzer then saves the input).
extern "C" const char* __ubsan_default_options() {
    return "halt_on_error=1:print_stacktrace=1";
}
extern "C" const char* __asan_default_options() {
    return "detect_leaks=1";
}
