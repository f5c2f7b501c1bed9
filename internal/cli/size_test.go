package cli

import "testing"

func TestSizeFlag(t *testing.T) {
	tests := []struct {
		name, in string
		want     int64
		wantErr  bool
		text     string
	}{
		{name: "bytes", in: "1000", want: 1000, text: "1000"},
		{name: "GiB", in: "4GiB", want: 4 << 30, text: "4GiB"},
		{name: "one letter", in: "512M", want: 512 << 20, text: "512MiB"},
		{name: "spaces", in: " 64 KiB ", want: 64 << 10, text: "64KiB"},
		{name: "B", in: "7B", want: 7, text: "7"},
		{name: "zero", in: "0", wantErr: true},
		{name: "negative", in: "-1GiB", wantErr: true},
		{name: "fraction", in: "1.5GiB", wantErr: true},
		{name: "overflow", in: "9999999TiB", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v int64 = -7
			f := sizeFlag{"max-stdin-size", &v}
			err := f.Set(tt.in)
			if tt.wantErr {
				if err == nil || v != -7 {
					t.Fatalf("Set(%q) = %v, value %d: want an error and no change", tt.in, err, v)
				}
				return
			}
			if err != nil || v != tt.want || f.String() != tt.text {
				t.Fatalf("Set(%q) = %v, value %d (%s), want %d (%s)", tt.in, err, v, f.String(), tt.want, tt.text)
			}
		})
	}
}
