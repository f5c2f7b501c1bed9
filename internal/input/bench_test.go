package input

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"testing"
)

const benchRows = 100_000

// benchCSV is a Cognito-export-like file: the known columns among others.
func benchCSV(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("name,email,email_verified,phone_number,user_pool_id,cognito:mfa_enabled,cognito:username\n")
	for i := range rows {
		fmt.Fprintf(&b, "User %d,user%d@example.com,true,+1555%07d,us-east-1_AbC123,false,user-%08d\n", i, i, i, i)
	}
	return b.Bytes()
}

func benchNDJSON(rows int) []byte {
	var b bytes.Buffer
	for i := range rows {
		fmt.Fprintf(&b, `{"username":"user-%08d","email":"user%d@example.com","user_pool_id":"us-east-1_AbC123","name":"User %d"}`+"\n", i, i, i)
	}
	return b.Bytes()
}

// benchRead reads all of data b.N times and reports time and allocations
// per row next to the per-file figures.
func benchRead(b *testing.B, data []byte, f Format) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rows := 0
	for b.Loop() {
		rd, err := Open(bytes.NewReader(data), f)
		if err != nil {
			b.Fatal(err)
		}
		for {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if row.Err != "" || row.Username == "" {
				b.Fatalf("row %d: %+v", row.N, row)
			}
			rows++
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows), "allocs/row")
}

func BenchmarkCSVReader(b *testing.B) { benchRead(b, benchCSV(benchRows), CSV) }

func BenchmarkNDJSONReader(b *testing.B) { benchRead(b, benchNDJSON(benchRows), NDJSON) }

func BenchmarkScan(b *testing.B) {
	data := benchCSV(benchRows)
	for _, bc := range []struct {
		name    string
		runSize int
	}{
		{"in_memory", 0},
		{"spill_10k_runs", 10_000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			opts := ScanOptions{RunSize: bc.runSize, TempDir: b.TempDir()}
			for b.Loop() {
				sum, err := ScanWithOptions(context.Background(), bytes.NewReader(data), CSV, func(r Row) string { return r.Username }, opts)
				if err != nil {
					b.Fatal(err)
				}
				if sum.Rows != benchRows || sum.Dups.Len() != 0 {
					b.Fatalf("summary: %d rows, %d dups", sum.Rows, sum.Dups.Len())
				}
			}
		})
	}
}

// BenchmarkWideHeader maps headers as wide as fit in one record: 520,000
// one-letter columns (the width that took 17 s) and 150,000 distinct names.
func BenchmarkWideHeader(b *testing.B) {
	for _, bc := range []struct {
		name string
		cols int
		cell func(j int) string
	}{
		{"520k_same_name", 520_000, func(int) string { return "x" }},
		{"150k_distinct", 150_000, func(j int) string { return "c" + strconv.Itoa(j) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			data := []byte(wideHeader(bc.cols, bc.cell) + "\nalice\n")
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				rd, err := NewCSVReader(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				if !rd.Columns().Username {
					b.Fatal("username column not found")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(bc.cols), "ns/column")
		})
	}
}
