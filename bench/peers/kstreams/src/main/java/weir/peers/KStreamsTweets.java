/*
 * KStreamsTweets - the tweets workload in Kafka Streams, for bench/peers.sh,
 * driven in-process by TopologyTestDriver: no broker, so only the engine is
 * timed (its state stores, serdes, repartition and caches are the real ones).
 *
 * The topology is what a Kafka Streams user writes for it: records are the
 * NDJSON lines as strings, their timestamps the created_at field (a
 * TimestampExtractor), parsed with Jackson, grouped by city (a repartition),
 * hopping windows of 5 minutes advancing by 1 minute, aggregated into
 * tweets, retweets and the set of user ids (exact distinct count) in the
 * default (RocksDB) window store, the changes sent to an output topic; the
 * last change of each window is its row. Rows go to OUTPUT as TSV (city,
 * window start and end in epoch seconds, tweets, retweets, users).
 *
 * Prints to stderr one line "engine_s=S engine_cpu_s=C": the wall and the CPU
 * time of the JVM (all its threads) from the first record piped in to the
 * last row read out, so the JVM's start and the topology's set-up are excluded.
 *
 * Usage: KStreamsTweets INPUT.ndjson OUTPUT.tsv [memory|rocksdb]
 */
package weir.peers;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileReader;
import java.io.FileWriter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.TimestampExtractor;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.common.utils.Bytes;

public final class KStreamsTweets {
    /** One window's aggregate: counts and the distinct user ids. */
    static final class Agg {
        long tweets, retweets;
        Set<String> users = new HashSet<>();
    }

    /** The aggregate in the window store: counts, then the user ids. */
    static final class AggSerde {
        static byte[] serialize(String topic, Agg a) {
            try {
                ByteArrayOutputStream b = new ByteArrayOutputStream(16 + a.users.size() * 8);
                DataOutputStream d = new DataOutputStream(b);
                d.writeLong(a.tweets);
                d.writeLong(a.retweets);
                d.writeInt(a.users.size());
                for (String u : a.users)
                    d.writeUTF(u);
                return b.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static Agg deserialize(String topic, byte[] data) {
            if (data == null)
                return null;
            try {
                DataInputStream d = new DataInputStream(new ByteArrayInputStream(data));
                Agg a = new Agg();
                a.tweets = d.readLong();
                a.retweets = d.readLong();
                for (int n = d.readInt(); n > 0; n--)
                    a.users.add(d.readUTF());
                return a;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static Serde<Agg> serde() {
            return Serdes.serdeFrom(AggSerde::serialize, AggSerde::deserialize);
        }
    }

    /** Event time: the record's created_at (ISO 8601). */
    public static final class CreatedAt implements TimestampExtractor {
        private static final String FIELD = "\"created_at\":\"";

        @Override public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
            String v = (String) record.value();
            int i = v.indexOf(FIELD) + FIELD.length();
            return Instant.parse(v.substring(i, v.indexOf('"', i))).toEpochMilli();
        }
    }

    /*
     * The window store. TopologyTestDriver commits after every record, and a
     * commit flushes the stores: RocksDB's flush writes its memtable to a new
     * file each time, which no deployment does (they commit every 30 s), so
     * the default is the in-memory window store, the one Kafka Streams offers
     * for state that fits in memory ("rocksdb" picks the default store). Its
     * changelog is off: with a broker it would be sent there; the driver keeps
     * every changelog record in memory instead. The aggregate is stored
     * serialized, so each update reads and writes the window's whole set of
     * users: that is how the DSL keeps an exact distinct count, and it is most
     * of the time here (the busiest city's windows hold ~350 users).
     */
    private static Materialized<String, Agg, WindowStore<Bytes, byte[]>> store(String kind) {
        if (kind.equals("rocksdb"))
            return Materialized.as(Stores.persistentWindowStore("city_stats", Duration.ofDays(1), Duration.ofMinutes(5), false));
        return Materialized.as(Stores.inMemoryWindowStore("city_stats", Duration.ofDays(1), Duration.ofMinutes(5), false));
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Serde<Agg> aggSerde = AggSerde.serde();
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("tweets", Consumed.with(Serdes.String(), Serdes.String()).withTimestampExtractor(new CreatedAt()))
            .mapValues(v -> {
                try {
                    return json.readTree(v);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            })
            .groupBy((k, t) -> t.get("city").asText(), Grouped.with(Serdes.String(), new JsonSerde(json).serde()))
            .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(5), Duration.ofSeconds(30)).advanceBy(Duration.ofMinutes(1)))
            .aggregate(Agg::new, (city, t, a) -> {
                a.tweets++;
                if (t.get("is_retweet").asBoolean())
                    a.retweets++;
                a.users.add(t.get("user_id").asText());
                return a;
            }, store(args.length > 2 ? args[2] : "memory").withKeySerde(Serdes.String()).withValueSerde(aggSerde).withLoggingDisabled())
            .toStream((w, a) -> w.key() + "\t" + w.window().start() / 1000 + "\t" + w.window().end() / 1000)
            .mapValues(a -> a.tweets + "\t" + a.retweets + "\t" + a.users.size())
            .to("city_stats", Produced.with(Serdes.String(), Serdes.String()));

        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "tweets");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        /* on tmpfs: the driver's commit after every record writes the task's checkpoint file each time
           (a deployment, every 30 s); removed at the end */
        java.nio.file.Path stateDir = Files.createTempDirectory(java.nio.file.Path.of("/dev/shm"), "kstreams-tweets");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        Map<String, String> rows = new HashMap<>();
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props);
             BufferedReader in = new BufferedReader(new FileReader(args[0]), 1 << 20)) {
            TestInputTopic<String, String> input = driver.createInputTopic("tweets", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, String> output = driver.createOutputTopic("city_stats", Serdes.String().deserializer(), Serdes.String().deserializer());
            long t0 = System.nanoTime(), c0 = cpuNanos(), n = 0;
            for (String line; (line = in.readLine()) != null; ) {
                input.pipeInput(null, line);
                if (++n % 10000 == 0)
                    drain(output, rows);
            }
            drain(output, rows);
            long t1 = System.nanoTime(), c1 = cpuNanos();
            System.err.printf("engine_s=%.3f engine_cpu_s=%.3f rows=%d%n", (t1 - t0) / 1e9, (c1 - c0) / 1e9, rows.size());
        }
        try (java.util.stream.Stream<java.nio.file.Path> files = Files.walk(stateDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
        try (BufferedWriter out = new BufferedWriter(new FileWriter(args[1]), 1 << 20)) {
            for (Map.Entry<String, String> r : rows.entrySet())
                out.write(r.getKey() + "\t" + r.getValue() + "\n");
        }
        System.exit(0);
    }

    private static void drain(TestOutputTopic<String, String> output, Map<String, String> rows) {
        for (KeyValue<String, String> kv : output.readKeyValuesToList())
            rows.put(kv.key, kv.value);
    }

    /** The repartitioned records: the parsed tweet written back as JSON bytes. */
    static final class JsonSerde {
        private final ObjectMapper json;

        JsonSerde(ObjectMapper json) { this.json = json; }

        byte[] serialize(String topic, JsonNode t) {
            try {
                return json.writeValueAsBytes(t);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        JsonNode deserialize(String topic, byte[] data) {
            try {
                return data == null ? null : json.readTree(data);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        Serde<JsonNode> serde() {
            return Serdes.serdeFrom(this::serialize, this::deserialize);
        }
    }
}
