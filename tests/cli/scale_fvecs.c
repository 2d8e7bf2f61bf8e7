/* Multiplies every value of an .fvecs file by a factor (exact for a power of two) and prints the
 * largest squared norm of the result: inputs for the extreme-value tests.
 * Usage: scale_fvecs IN.fvecs OUT.fvecs FACTOR */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    const float f = strtof(argv[3], NULL);
    if (!in || !out)
        return 1;
    int32_t d;
    double most = 0;
    while (fread(&d, 4, 1, in) == 1) {
        if (d <= 0 || d > 65536)
            return 1;
        float v[65536];
        if (fread(v, 4, (size_t)d, in) != (size_t)d)
            return 1;
        double s = 0;
        for (int32_t j = 0; j < d; j++) {
            v[j] *= f;
            s += (double)v[j] * v[j];
        }
        most = s > most ? s : most;
        if (fwrite(&d, 4, 1, out) != 1 || fwrite(v, 4, (size_t)d, out) != (size_t)d)
            return 1;
    }
    printf("%.6g\n", most);
    return fclose(out) == 0 && fclose(in) == 0 ? 0 : 1;
}
