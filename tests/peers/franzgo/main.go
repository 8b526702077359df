// franzgo - a Go client, franz-go (github.com/twmb/franz-go, from the Go
// module proxy), against a Kafka protocol server, for
// tests/integration/kafka_go.sh: a producer with franz-go's defaults
// (idempotent, acks=all, the newest API versions it knows, negotiated down)
// and lz4 sends N keyed records to topic "events"; a consumer of group
// "go-group" reads them back and commits. Prints "acked N" and "consumed N".
//
//	franzgo HOST:PORT N
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	bootstrap := os.Args[1]
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Println("usage: franzgo HOST:PORT N")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	if err != nil {
		fmt.Println("client:", err)
		os.Exit(1)
	}
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: "events", Key: []byte(fmt.Sprintf("go%d", i)), Value: []byte(fmt.Sprintf(`{"id": %d, "name": "go"}`, i))}
	}
	if err := p.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		fmt.Println("produce:", err)
		os.Exit(1)
	}
	p.Close()
	fmt.Println("acked", n)
	c, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumerGroup("go-group"), kgo.ConsumeTopics("events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		fmt.Println("consumer:", err)
		os.Exit(1)
	}
	got := 0
	for got < n && ctx.Err() == nil {
		fs := c.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			if len(r.Key) > 2 && string(r.Key[:2]) == "go" {
				got++
			}
		})
		for _, e := range fs.Errors() {
			fmt.Println("fetch error:", e.Err)
		}
	}
	if err := c.CommitUncommittedOffsets(ctx); err != nil {
		fmt.Println("commit:", err)
	}
	c.Close()
	fmt.Println("consumed", got)
}
