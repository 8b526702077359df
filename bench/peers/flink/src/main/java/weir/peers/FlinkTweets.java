/*
 * FlinkTweets - the tweets workload in Apache Flink SQL, local execution, for
 * bench/peers.sh: the NDJSON file through the filesystem connector and the
 * json format, event time from created_at (in order: the watermark is the
 * timestamp itself), HOP windows of 5 minutes every minute by city with
 * COUNT(*), the retweets and COUNT(DISTINCT user_id), in streaming mode (what
 * a streaming deployment runs; the bounded source ends with a final watermark
 * that closes every window). Rows go to OUTPUT as TSV (city, window start and
 * end in epoch seconds, tweets, retweets, users).
 *
 * Prints to stderr one line "engine_s=S engine_cpu_s=C submit_s=S submit_cpu_s=C":
 * the wall and the CPU time of the JVM (all its threads) from the first record
 * in (the first call of FirstIn, a filter that passes everything) to the last
 * row read, and the same from submitting the query (planning, code generation
 * and the local cluster's start included). The JVM's start and the table
 * environment's set-up are excluded from both.
 *
 * Usage: FlinkTweets INPUT.ndjson OUTPUT.tsv [PARALLELISM]
 */
package weir.peers;

import java.io.BufferedWriter;
import java.io.FileWriter;
import java.lang.management.ManagementFactory;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

public final class FlinkTweets {
    /** Notes the time of the first record in; passes every record. */
    public static final class FirstIn extends ScalarFunction {
        static final AtomicLong WALL = new AtomicLong(), CPU = new AtomicLong();

        public boolean eval(String id) {
            if (WALL.get() == 0 && WALL.compareAndSet(0, System.nanoTime()))
                CPU.set(cpuNanos());
            return true;
        }
    }

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long epoch(Object t) {
        return ((LocalDateTime) t).toEpochSecond(ZoneOffset.UTC);
    }

    public static void main(String[] args) throws Exception {
        Configuration conf = new Configuration();
        conf.setString("table.local-time-zone", "UTC");
        if (args.length > 2)
            conf.setString("parallelism.default", args[2]);
        TableEnvironment env = TableEnvironment.create(
            EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf).build());
        env.executeSql("CREATE TABLE tweets (id STRING, user_id STRING, city STRING, is_retweet BOOLEAN,"
            + " created_at TIMESTAMP_LTZ(3), WATERMARK FOR created_at AS created_at)"
            + " WITH ('connector' = 'filesystem', 'path' = 'file://" + args[0] + "', 'format' = 'json',"
            + " 'json.timestamp-format.standard' = 'ISO-8601', 'json.fail-on-missing-field' = 'true')");
        env.createTemporarySystemFunction("first_in", FirstIn.class);
        env.executeSql("CREATE TEMPORARY VIEW tweets_in AS SELECT * FROM tweets WHERE first_in(id)");
        String query = "SELECT city, window_start, window_end, COUNT(*), COUNT(*) FILTER (WHERE is_retweet),"
            + " COUNT(DISTINCT user_id)"
            + " FROM TABLE(HOP(TABLE tweets_in, DESCRIPTOR(created_at), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE))"
            + " GROUP BY city, window_start, window_end";
        long t0 = System.nanoTime(), c0 = cpuNanos();
        TableResult result = env.executeSql(query);
        long rows = 0;
        try (CloseableIterator<Row> it = result.collect();
             BufferedWriter out = new BufferedWriter(new FileWriter(args[1]), 1 << 20)) {
            while (it.hasNext()) {
                Row r = it.next();
                out.write(r.getField(0) + "\t" + epoch(r.getField(1)) + "\t" + epoch(r.getField(2)) + "\t"
                    + r.getField(3) + "\t" + r.getField(4) + "\t" + r.getField(5) + "\n");
                rows++;
            }
        }
        long t1 = System.nanoTime(), c1 = cpuNanos();
        while (FirstIn.CPU.get() == 0)
            Thread.onSpinWait(); /* set just after WALL, by the task that saw the first record */
        System.err.printf("engine_s=%.3f engine_cpu_s=%.3f submit_s=%.3f submit_cpu_s=%.3f rows=%d%n",
            (t1 - FirstIn.WALL.get()) / 1e9, (c1 - FirstIn.CPU.get()) / 1e9, (t1 - t0) / 1e9, (c1 - c0) / 1e9, rows);
        System.exit(0);
    }
}
