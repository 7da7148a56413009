/**
 * The benchmarks' harnesses: what they load, run and measure, one class per measurement. The
 * commands in {@code cli} ({@code bench}, {@code bench-forensics}) only read their options, call
 * these in order and print the figures. Every figure comes from a run on real Kafka and
 * Elasticsearch, on topics and indices of the bench's own (a prefix), never the pipeline's.
 */
package io.tourniquet.bench;
