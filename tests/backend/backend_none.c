/* libpartifact-backend-none.so: a shared library that is not a partifact backend. */
__attribute__((visibility("default"))) int not_a_backend(void) { return 42; }
