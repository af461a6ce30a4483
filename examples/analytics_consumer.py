"""Tail a SlotWise topic from the beginning and print each event: an analytics consumer.

    python examples/analytics_consumer.py --servers 127.0.0.1:9092 --topic slotwise.booking

Needs only kafka-python (3.x). It reads every partition of the topic from
offset 0 without joining a consumer group (so it commits nothing and disturbs
no one), and prints one line per event: position, type, aggregate, time and
data. Records are CloudEvents in structured mode (one `content-type:
application/cloudevents+json` header, the whole event in the value), so
`json.loads` is all it takes. Each event is on its topic once and events of
one aggregate arrive in order (positions rise per key). `--max-events` and
`--idle-seconds` make it stop (for scripts and tests); without them it tails
forever, until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from kafka import KafkaConsumer, TopicPartition


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    parser.add_argument("--topic", default="slotwise.booking")
    parser.add_argument("--max-events", type=int, default=0, help="stop after this many (0: never)")
    parser.add_argument("--idle-seconds", type=float, default=0, help="stop after this long idle")
    args = parser.parse_args(argv)

    consumer = KafkaConsumer(
        bootstrap_servers=args.servers.split(","),
        enable_auto_commit=False,
        client_id="slotwise-analytics-example",
    )
    deadline = time.monotonic() + 30
    partitions = consumer.partitions_for_topic(args.topic)
    while not partitions and time.monotonic() < deadline:  # the topic may not exist yet
        time.sleep(0.2)
        partitions = consumer.partitions_for_topic(args.topic)
    if not partitions:
        print(f"no topic {args.topic!r}", file=sys.stderr)
        return 1
    assigned = [TopicPartition(args.topic, p) for p in sorted(partitions)]
    consumer.assign(assigned)
    for tp in assigned:
        consumer.seek(tp, 0)  # from the beginning, whatever anyone committed

    printed, idle_since = 0, time.monotonic()
    try:
        while True:
            batches = consumer.poll(timeout_ms=200)
            if batches:
                idle_since = time.monotonic()
            for messages in batches.values():
                for message in messages:
                    event = json.loads(message.value)
                    print(
                        f"{event['position']:>8} {event['type']:<34} {event['subject']} "
                        f"{event['time']} {json.dumps(event['data'], sort_keys=True)}",
                        flush=True,
                    )
                    printed += 1
                    if args.max_events and printed >= args.max_events:
                        return 0
            if args.idle_seconds and time.monotonic() - idle_since >= args.idle_seconds:
                return 0
    except KeyboardInterrupt:
        return 0
    finally:
        consumer.close()


if __name__ == "__main__":
    sys.exit(main())
