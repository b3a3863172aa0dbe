/* segment_ppm MODEL.tflite PHOTO.ppm LABELS.pgm [THREADS]
 *
 * Segments a photo with qseg's C API: reads a binary PPM (P6, 8 bits), writes one class id per
 * pixel as a binary PGM (P5) and prints the pixel count of every class present. */
#include <qseg/qseg_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next header number of a PNM file, skipping whitespace and # comments; -1 on error. */
static long read_header_number(FILE* f) {
  int c = fgetc(f);
  for (;;) {
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = fgetc(f);
    if (c != '#') break;
    while (c != '\n' && c != EOF) c = fgetc(f);
  }
  long value = 0;
  int digits = 0;
  while (c >= '0' && c <= '9' && value < 100000) {
    value = value * 10 + (c - '0');
    ++digits;
    c = fgetc(f);
  }
  return digits > 0 ? value : -1; /* the single whitespace after the number is consumed */
}

static unsigned char* read_ppm(const char* path, int* width, int* height) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "segment_ppm: cannot open %s\n", path);
    return NULL;
  }
  char magic[2] = {0, 0};
  unsigned char* pixels = NULL;
  if (fread(magic, 1, 2, f) == 2 && magic[0] == 'P' && magic[1] == '6') {
    const long w = read_header_number(f), h = read_header_number(f), max = read_header_number(f);
    if (w >= 1 && h >= 1 && w <= 65535 && h <= 65535 && max == 255) {
      const size_t size = (size_t)w * (size_t)h * 3;
      pixels = malloc(size);
      if (pixels && fread(pixels, 1, size, f) != size) {
        free(pixels);
        pixels = NULL;
      }
      *width = (int)w;
      *height = (int)h;
    }
  }
  fclose(f);
  if (!pixels) fprintf(stderr, "segment_ppm: %s is not a complete 8-bit binary PPM (P6)\n", path);
  return pixels;
}

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: segment_ppm MODEL.tflite PHOTO.ppm LABELS.pgm [THREADS]\n");
    return 2;
  }
  const int threads = argc == 5 ? atoi(argv[4]) : 1;
  int width = 0, height = 0;
  unsigned char* rgb = read_ppm(argv[2], &width, &height);
  if (!rgb) return 1;

  qseg_model* model = qseg_model_load_file(argv[1]);
  if (!model) {
    fprintf(stderr, "segment_ppm: %s\n", qseg_last_error());
    free(rgb);
    return 1;
  }
  unsigned char* labels = malloc((size_t)width * (size_t)height);
  int status = labels ? 0 : 1;
  if (status == 0 && (qseg_model_set_threads(model, threads) != QSEG_OK ||
                      qseg_segment(model, rgb, width, height, (size_t)width * 3, labels,
                                   (size_t)width) != QSEG_OK)) {
    fprintf(stderr, "segment_ppm: %s\n", qseg_last_error());
    status = 1;
  }
  if (status == 0) {
    FILE* out = fopen(argv[3], "wb");
    if (!out || fprintf(out, "P5\n%d %d\n255\n", width, height) < 0 ||
        fwrite(labels, 1, (size_t)width * (size_t)height, out) != (size_t)width * (size_t)height) {
      fprintf(stderr, "segment_ppm: cannot write %s\n", argv[3]);
      status = 1;
    }
    if (out && fclose(out) != 0) status = 1;
  }
  if (status == 0) {
    long counts[256];
    memset(counts, 0, sizeof counts);
    for (size_t i = 0; i < (size_t)width * (size_t)height; ++i) ++counts[labels[i]];
    int input_width = 0, input_height = 0;
    qseg_model_input_size(model, &input_width, &input_height);
    printf("%dx%d photo, model input %dx%d\n", width, height, input_width, input_height);
    for (int c = 0; c < 256; ++c) {
      if (counts[c] == 0) continue;
      /* The model's class names (version 2 of the API): VOC's, or those it carries. */
      const char* name = qseg_model_class_name(model, c);
      printf("class %d (%s): %ld pixels\n", c, name ? name : "not a class", counts[c]);
    }
  }
  free(labels);
  free(rgb);
  qseg_model_free(model);
  return status;
}
