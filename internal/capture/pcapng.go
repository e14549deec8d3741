package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// pcapng's Decryption Secrets Block (pcapng draft, section 4.7): gopacket's
// NgWriter writes no such block, so netgrade writes it itself, as
// `editcap --inject-secrets tls,KEYLOG` does.
const (
	dsbBlockType  = 0x0000000A
	dsbTLSKeyLog  = 0x544c534b // "TLSK": an NSS key log
	dsbHeaderSize = 16         // type, length, secrets type, secrets length
)

// Write writes frames as a pcapng file: one section, the loopback as its
// one interface, the TLS key log (NSS key log format, may be empty) as a
// Decryption Secrets Block before the first frame, then the frames.
// comment goes into the section header (what the capture is of).
func Write(w io.Writer, frames []Frame, keylog []byte, comment string) error {
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware: runtime.GOARCH, OS: runtime.GOOS, Application: "netgrade", Comment: comment,
	}}
	intf := pcapgo.NgInterface{
		Name: Interface, Description: "loopback of the graded program", OS: runtime.GOOS,
		LinkType: layers.LinkTypeEthernet, SnapLength: snapLen, TimestampResolution: 9,
	}
	nw, err := pcapgo.NewNgWriterInterface(w, intf, opts)
	if err != nil {
		return fmt.Errorf("capture: writing the pcapng header: %w", err)
	}
	if len(keylog) > 0 {
		if err := nw.Flush(); err != nil {
			return fmt.Errorf("capture: writing the pcapng header: %w", err)
		}
		if _, err := w.Write(secretsBlock(keylog)); err != nil {
			return fmt.Errorf("capture: writing the TLS keys: %w", err)
		}
	}
	for _, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: len(f.Data), Length: max(f.Len, len(f.Data))}
		if err := nw.WritePacket(ci, f.Data); err != nil {
			return fmt.Errorf("capture: writing a frame: %w", err)
		}
	}
	if err := nw.Flush(); err != nil {
		return fmt.Errorf("capture: writing the frames: %w", err)
	}
	return nil
}

// Bytes returns the pcapng file of frames and keylog (see Write).
func Bytes(frames []Frame, keylog []byte, comment string) ([]byte, error) {
	var b bytes.Buffer
	if err := Write(&b, frames, keylog, comment); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// secretsBlock returns a little-endian Decryption Secrets Block holding
// an NSS key log, padded to 32 bits, with no options.
func secretsBlock(keylog []byte) []byte {
	pad := (4 - len(keylog)%4) % 4
	total := dsbHeaderSize + len(keylog) + pad + 4
	b := make([]byte, total)
	le := binary.LittleEndian
	le.PutUint32(b[0:], dsbBlockType)
	le.PutUint32(b[4:], uint32(total))
	le.PutUint32(b[8:], dsbTLSKeyLog)
	le.PutUint32(b[12:], uint32(len(keylog)))
	copy(b[dsbHeaderSize:], keylog)
	le.PutUint32(b[total-4:], uint32(total))
	return b
}
