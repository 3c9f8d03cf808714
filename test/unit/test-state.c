#include <stdio.h>
int main(void) { puts("1..1\nnot ok 1 - not written yet"); return 1; }
