/*
 * log.c (bench) - the embedded log's throughput and latency, beside the
 * disk's own sequential-write bandwidth measured by dd in the same run.
 *
 *   build/bench/log [DIR] [RECORDS]
 *
 * Appends RECORDS (default 5M) records of 100-byte values with keys over 4
 * partitions, committing as the log's group commit says (2 ms or 4 MiB),
 * with fsync policy group and then none; scans them back on one core
 * beside a raw read of the same files; and measures the acknowledgement
 * latency of single appends at a paced rate under group commit.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "log/log.h"

#define VALUE_SIZE 100

static const char *dir;
static uint64_t n_records = 5000000;

static void die(const char *what, const weir_err *err)
{
    fprintf(stderr, "bench/log: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

static void rm_rf(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        die("rm -rf", NULL);
}

typedef struct result {
    double secs;
    uint64_t bytes;  /* bytes in segment files */
} result;

static double median(double *v, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort: n is tiny */
        for (int k = i; k > 0 && v[k] < v[k - 1]; k--) {
            double t = v[k];
            v[k] = v[k - 1];
            v[k - 1] = t;
        }
    return v[n / 2];
}

static void make_value(uint8_t *v, uint64_t i)
{
    memset(v, 'x', VALUE_SIZE);
    int n = snprintf((char *)v, VALUE_SIZE, "{\"seq\":%llu,\"pad\":\"", (unsigned long long)i);
    v[n] = 'x';
    memcpy(v + VALUE_SIZE - 2, "\"}", 2);
}

static result append_run(const char *sub, weir_fsync_policy policy)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    rm_rf(path);
    weir_log_options o = {.fsync = policy};
    weir_log *log;
    weir_stream *s;
    weir_err err;
    if (weir_log_open(path, &o, &log, &err) || weir_stream_create(log, "bench", NULL, &s, &err))
        die("open", &err);
    /* Values and keys are made before the clock starts: the loop measures the log. */
    enum { DISTINCT = 4096 };
    static uint8_t values[DISTINCT][VALUE_SIZE];
    static char keys[DISTINCT][16];
    static size_t key_len[DISTINCT];
    for (uint64_t i = 0; i < DISTINCT; i++) {
        make_value(values[i], i);
        key_len[i] = (size_t)snprintf(keys[i], sizeof keys[i], "%08llu", (unsigned long long)(i * 7919 % 100000));
    }
    uint64_t start = weir_mono_ns();
    for (uint64_t i = 0; i < n_records; i++) {
        size_t k = i % DISTINCT;
        weir_record r = {.key = (const uint8_t *)keys[k], .key_len = key_len[k], .value = values[k],
                         .value_len = VALUE_SIZE, .ts_ms = (int64_t)i};
        if (weir_stream_append(s, -1, &r, NULL, NULL, &err))
            die("append", &err);
        if ((i & 255) == 0 && weir_log_commit_due(log, weir_mono_ns()) && weir_log_commit(log, &err))
            die("commit", &err);
    }
    if (weir_log_commit(log, &err))
        die("commit", &err);
    result res = {.secs = bench_secs(start)};
    for (uint32_t p = 0; p < 4; p++) {
        weir_partition_stats st;
        weir_stream_partition_stats(s, p, &st, &err);
        res.bytes += st.bytes;
    }
    weir_log_close(log, &err);
    return res;
}

static double scan_run(const char *sub, uint64_t *count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    weir_log_options o = {.read_only = true};
    weir_log *log;
    weir_stream *s;
    weir_err err;
    if (weir_log_open(path, &o, &log, &err) || weir_stream_open(log, "bench", &s, &err))
        die("open for scan", &err);
    uint64_t start = weir_mono_ns(), sum = 0;
    *count = 0;
    for (uint32_t p = 0; p < 4; p++) {
        weir_reader *r;
        weir_record rec;
        weir_reader_open(s, p, 0, &r, &err);
        while (weir_reader_next(r, &rec, &err) == 1) {
            sum += rec.value_len + rec.value[7]; /* touch the record */
            (*count)++;
        }
        weir_reader_close(r);
    }
    double secs = bench_secs(start);
    weir_log_close(log, &err);
    if (sum == 0)
        die("scan saw nothing", NULL);
    return secs;
}

/* The ceiling for a scan: reading the same segment files into a buffer. */
static double raw_read_run(const char *sub, uint64_t *bytes)
{
    static uint8_t buf[1 << 20];
    uint64_t start = weir_mono_ns(), x = 0;
    *bytes = 0;
    for (int p = 0; p < 4; p++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s/streams/bench/%d", dir, sub, p);
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strstr(e->d_name, ".log"))
                continue;
            char f[4500];
            snprintf(f, sizeof f, "%s/%s", path, e->d_name);
            int fd = open(f, O_RDONLY);
            ssize_t n;
            while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0) {
                *bytes += (uint64_t)n;
                x += buf[n - 1];
            }
            if (fd >= 0)
                close(fd);
        }
        if (d)
            closedir(d);
    }
    double secs = bench_secs(start);
    return x == 12345 ? secs + 1e-9 : secs; /* keep the loop */
}

/* Single appends at a paced rate, each acknowledged by the group commit
 * that covers it: latency = commit done - append started. */
static void latency_run(uint64_t rate, uint64_t count, uint64_t *p50, uint64_t *p99, uint64_t *pmax)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/latency", dir);
    rm_rf(path);
    weir_log_options o = {.fsync = WEIR_FSYNC_GROUP};
    weir_log *log;
    weir_stream *s;
    weir_err err;
    if (weir_log_open(path, &o, &log, &err) || weir_stream_create(log, "bench", NULL, &s, &err))
        die("open", &err);
    uint64_t *lat = malloc(count * sizeof *lat), *started = malloc(count * sizeof *started);
    uint8_t value[VALUE_SIZE];
    uint64_t next = weir_mono_ns(), gap = 1000000000u / rate, acked = 0;
    for (uint64_t i = 0; i < count; i++) {
        while (weir_mono_ns() < next) {
            if (weir_log_commit_due(log, weir_mono_ns())) {
                if (weir_log_commit(log, &err))
                    die("commit", &err);
                uint64_t now = weir_mono_ns();
                for (; acked < i; acked++)
                    lat[acked] = now - started[acked];
            }
        }
        next += gap;
        make_value(value, i);
        started[i] = weir_mono_ns();
        weir_record r = {.value = value, .value_len = VALUE_SIZE, .ts_ms = (int64_t)i};
        if (weir_stream_append(s, -1, &r, NULL, NULL, &err))
            die("append", &err);
    }
    weir_log_commit(log, &err);
    uint64_t now = weir_mono_ns();
    for (; acked < count; acked++)
        lat[acked] = now - started[acked];
    *p50 = bench_percentile(lat, count, 50);
    *p99 = bench_percentile(lat, count, 99);
    *pmax = bench_percentile(lat, count, 100);
    free(lat);
    free(started);
    weir_log_close(log, &err);
}

int main(int argc, char **argv)
{
    dir = argc > 1 ? argv[1] : "build/bench-data";
    if (argc > 2)
        n_records = strtoull(argv[2], NULL, 10);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0)
        die("mkdir", NULL);

    /* Each measure runs RUNS times, interleaved, and the median is shown. */
    enum { RUNS = 3 };
    double dd[RUNS], dd_buf[RUNS], group_rate[RUNS], group_mb[RUNS], none_rate[RUNS], none_mb[RUNS];
    double scan_rate[RUNS], scan_mb[RUNS], raw_mb[RUNS];
    uint64_t scanned = 0;
    for (int run = 0; run < RUNS; run++) {
        snprintf(cmd, sizeof cmd, "dd if=/dev/zero of='%s/dd.bin' bs=1M count=1024 oflag=direct conv=fdatasync 2>&1; rm -f '%s/dd.bin'", dir, dir);
        dd[run] = bench_dd_bytes_per_sec(cmd) / 1e6;
        /* The same write through the page cache with one fdatasync, as the log writes. */
        snprintf(cmd, sizeof cmd, "dd if=/dev/zero of='%s/dd.bin' bs=4M count=256 conv=fdatasync 2>&1; rm -f '%s/dd.bin'", dir, dir);
        dd_buf[run] = bench_dd_bytes_per_sec(cmd) / 1e6;
        result group = append_run("group", WEIR_FSYNC_GROUP);
        result none = append_run("none", WEIR_FSYNC_NONE);
        group_rate[run] = (double)n_records / group.secs / 1e6;
        group_mb[run] = (double)group.bytes / group.secs / 1e6;
        none_rate[run] = (double)n_records / none.secs / 1e6;
        none_mb[run] = (double)none.bytes / none.secs / 1e6;
        uint64_t raw_bytes;
        double scan = scan_run("group", &scanned);
        double raw = raw_read_run("group", &raw_bytes);
        scan_rate[run] = (double)scanned / scan / 1e6;
        scan_mb[run] = (double)group.bytes / scan / 1e6;
        raw_mb[run] = (double)raw_bytes / raw / 1e6;
    }
    uint64_t p50, p99, pmax;
    latency_run(20000, 100000, &p50, &p99, &pmax);

    printf("## bench/log: %llu records, %d-byte values, 4 partitions, keyed; median of %d runs\n\n",
           (unsigned long long)n_records, VALUE_SIZE, RUNS);
    printf("| measure | result | machine limit (same run) | ratio |\n|---|---|---|---|\n");
    printf("| append, fsync group (2 ms) | %.2f M records/s, %.0f MB/s | dd oflag=direct %.0f MB/s | %.0f%% |\n",
           median(group_rate, RUNS), median(group_mb, RUNS), median(dd, RUNS), 100 * median(group_mb, RUNS) / median(dd, RUNS));
    printf("| (same append) | | dd buffered + fdatasync %.0f MB/s | %.0f%% |\n", median(dd_buf, RUNS),
           100 * median(group_mb, RUNS) / median(dd_buf, RUNS));
    printf("| append, fsync none | %.2f M records/s, %.0f MB/s | dd oflag=direct %.0f MB/s | %.0f%% |\n",
           median(none_rate, RUNS), median(none_mb, RUNS), median(dd, RUNS), 100 * median(none_mb, RUNS) / median(dd, RUNS));
    printf("| scan, one core | %.2f M records/s, %.0f MB/s | raw read of the same files %.0f MB/s | %.0f%% |\n",
           median(scan_rate, RUNS), median(scan_mb, RUNS), median(raw_mb, RUNS), 100 * median(scan_mb, RUNS) / median(raw_mb, RUNS));
    printf("| acknowledged append latency at 20k/s, group commit | p50 %.2f ms, p99 %.2f ms, max %.2f ms | group window 2 ms | |\n",
           (double)p50 / 1e6, (double)p99 / 1e6, (double)pmax / 1e6);
    printf("| peak memory | %ld MB | | |\n", bench_peak_rss_mb());
    if (scanned != n_records)
        die("scan count differs from records appended", NULL);
    rm_rf(dir);
    return 0;
}
