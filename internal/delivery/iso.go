package delivery

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ISO is a live ISO image open for reading and writing in place (*os.File).
type ISO interface {
	io.ReaderAt
	io.WriterAt
}

// ErrNoEmbedArea is returned for an ISO without the reserved Ignition area
// of a Fedora CoreOS live ISO.
var ErrNoEmbedArea = errors.New("not a CoreOS live ISO: no Ignition embed area (IMAGES/IGNITION.IMG)")

// ErrAreaInUse is returned when the embed area already holds a config and
// the caller did not ask to replace it.
var ErrAreaInUse = errors.New("the ISO already has an embedded Ignition config")

// How coreos-installer finds the embed area (src/live/embed.rs): the file
// COREOS/IGNINFO.JSO, if present, names the area's ISO file and optionally
// an offset and length inside it; otherwise the whole extent of
// IMAGES/IGNITION.IMG is the area. The live ISO's boot loaders load that
// file as an extra initrd, so a wrapped config there reaches Ignition.
const (
	ignInfoPath         = "COREOS/IGNINFO.JSO"
	defaultEmbedPath    = "IMAGES/IGNITION.IMG"
	sectorSize          = 2048
	maxEmbedArea        = 64 << 20
	maxDirectoryExtent  = 16 << 20
	primaryDescriptorAt = 16 * sectorSize
)

// EmbedArea is the reserved region of a live ISO, in bytes from its start.
type EmbedArea struct {
	Offset int64
	Length int64
}

// FindEmbedArea locates the Ignition embed area of a live ISO, or returns
// ErrNoEmbedArea.
func FindEmbedArea(iso io.ReaderAt) (EmbedArea, error) {
	root, err := rootDirectory(iso)
	if err != nil {
		return EmbedArea{}, err
	}
	info := struct {
		File   string `json:"file"`
		Offset *int64 `json:"offset"`
		Length *int64 `json:"length"`
	}{File: defaultEmbedPath}
	if rec, err := lookup(iso, root, ignInfoPath); err == nil && !rec.dir {
		if rec.length > 1<<20 {
			return EmbedArea{}, fmt.Errorf("%s is too large", ignInfoPath)
		}
		buf := make([]byte, rec.length)
		if _, err := iso.ReadAt(buf, rec.offset()); err != nil {
			return EmbedArea{}, fmt.Errorf("reading %s: %w", ignInfoPath, err)
		}
		if err := json.Unmarshal(bytes.TrimRight(buf, "\x00 \n"), &info); err != nil {
			return EmbedArea{}, fmt.Errorf("decoding %s: %w", ignInfoPath, err)
		}
	} else if err != nil && !errors.Is(err, errNotFound) {
		return EmbedArea{}, err
	}
	rec, err := lookup(iso, root, info.File)
	if errors.Is(err, errNotFound) || (err == nil && rec.dir) {
		return EmbedArea{}, ErrNoEmbedArea
	}
	if err != nil {
		return EmbedArea{}, err
	}
	area := EmbedArea{Offset: rec.offset(), Length: int64(rec.length)}
	if info.Offset != nil {
		if *info.Offset < 0 || *info.Offset > area.Length {
			return EmbedArea{}, fmt.Errorf("%s: offset %d outside %s", ignInfoPath, *info.Offset, info.File)
		}
		area.Offset += *info.Offset
		area.Length -= *info.Offset
	}
	if info.Length != nil {
		if *info.Length < 0 || *info.Length > area.Length {
			return EmbedArea{}, fmt.Errorf("%s: length %d beyond %s", ignInfoPath, *info.Length, info.File)
		}
		area.Length = *info.Length
	}
	if area.Length == 0 || area.Length > maxEmbedArea {
		return EmbedArea{}, fmt.Errorf("embed area of %d bytes is not usable", area.Length)
	}
	return area, nil
}

// EmbedISO writes ign into the live ISO's embed area, wrapped as
// `coreos-installer iso ignition embed` does: the xz-compressed newc initrd
// of WrapIgnition, zero-padded to the area's length. It refuses an ISO
// without the area (ErrNoEmbedArea), a config that does not fit, and an area
// that already holds data unless force is set; force replaces the whole
// area (unlike coreos-installer, it does not keep other members such as
// network keyfiles). Nothing outside the area is changed.
func EmbedISO(iso ISO, ign []byte, force bool) error {
	area, err := FindEmbedArea(iso)
	if err != nil {
		return err
	}
	cur := make([]byte, area.Length)
	if _, err := iso.ReadAt(cur, area.Offset); err != nil {
		return fmt.Errorf("reading embed area: %w", err)
	}
	if !force && bytes.ContainsFunc(cur, func(r rune) bool { return r != 0 }) {
		return ErrAreaInUse
	}
	img, err := WrapIgnition(ign)
	if err != nil {
		return err
	}
	if int64(len(img)) > area.Length {
		return fmt.Errorf("compressed config is %d bytes, the ISO's embed area holds %d", len(img), area.Length)
	}
	buf := make([]byte, area.Length)
	copy(buf, img)
	if _, err := iso.WriteAt(buf, area.Offset); err != nil {
		return fmt.Errorf("writing embed area: %w", err)
	}
	return nil
}

// ISOIgnition returns the config embedded in a live ISO, or nil if the
// area is empty.
func ISOIgnition(iso io.ReaderAt) ([]byte, error) {
	area, err := FindEmbedArea(iso)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, area.Length)
	if _, err := iso.ReadAt(buf, area.Offset); err != nil {
		return nil, err
	}
	files, err := UnwrapFiles(buf)
	if err != nil {
		return nil, err
	}
	return files[InstallerConfigPath], nil
}

var errNotFound = errors.New("not found")

// record is an ISO 9660 directory record: a file or folder extent.
type record struct {
	name   string
	extent uint32 // first sector
	length uint32 // bytes
	dir    bool
}

func (r record) offset() int64 { return int64(r.extent) * sectorSize }

// rootDirectory reads the root folder record of the primary volume
// descriptor (ECMA-119 8.4; https://wiki.osdev.org/ISO_9660).
func rootDirectory(iso io.ReaderAt) (record, error) {
	buf := make([]byte, sectorSize)
	for at := int64(primaryDescriptorAt); ; at += sectorSize {
		if _, err := iso.ReadAt(buf, at); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return record{}, errors.New("not an ISO 9660 image: too short for a volume descriptor")
			}
			return record{}, fmt.Errorf("not an ISO 9660 image: %w", err)
		}
		if string(buf[1:6]) != "CD001" {
			return record{}, errors.New("not an ISO 9660 image: no volume descriptor")
		}
		switch buf[0] {
		case 1: // primary
			recs, err := parseRecords(buf[156:190], true)
			if err != nil || len(recs) != 1 || !recs[0].dir {
				return record{}, errors.New("ISO 9660: bad root directory record")
			}
			return recs[0], nil
		case 255: // terminator
			return record{}, errors.New("ISO 9660: no primary volume descriptor")
		}
		if at > primaryDescriptorAt+64*sectorSize {
			return record{}, errors.New("ISO 9660: no primary volume descriptor")
		}
	}
}

// lookup walks path (upper-case ISO 9660 names, "/"-separated) from root.
func lookup(iso io.ReaderAt, root record, path string) (record, error) {
	cur := root
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, part := range parts {
		if !cur.dir {
			return record{}, errNotFound
		}
		if cur.length > maxDirectoryExtent {
			return record{}, fmt.Errorf("ISO 9660: directory of %d bytes", cur.length)
		}
		buf := make([]byte, cur.length)
		if _, err := iso.ReadAt(buf, cur.offset()); err != nil {
			return record{}, fmt.Errorf("ISO 9660: reading directory: %w", err)
		}
		recs, err := parseRecords(buf, false)
		if err != nil {
			return record{}, err
		}
		found := false
		for _, r := range recs {
			if strings.EqualFold(r.name, part) {
				cur, found = r, true
				break
			}
		}
		if !found {
			return record{}, errNotFound
		}
		if i == len(parts)-1 {
			return cur, nil
		}
	}
	return cur, nil
}

// parseRecords decodes the directory records in buf, skipping "." and ".."
// (except the root's own record when root is set) and the zero padding at
// the end of each sector. Names lose their ";1" version and a trailing ".",
// as coreos-installer's src/iso9660.rs does.
func parseRecords(buf []byte, root bool) ([]record, error) {
	var out []record
	for pos := 0; pos < len(buf); {
		n := int(buf[pos])
		if n == 0 {
			pos = (pos/sectorSize + 1) * sectorSize // records never span sectors
			continue
		}
		if n < 34 || pos+n > len(buf) {
			return nil, errors.New("ISO 9660: corrupt directory record")
		}
		r := buf[pos : pos+n]
		nameLen := int(r[32])
		if 33+nameLen > n {
			return nil, errors.New("ISO 9660: corrupt directory record name")
		}
		name := string(r[33 : 33+nameLen])
		rec := record{
			extent: binary.LittleEndian.Uint32(r[2:6]),
			length: binary.LittleEndian.Uint32(r[10:14]),
			dir:    r[25]&2 != 0,
		}
		pos += n
		if nameLen == 1 && (name[0] == 0 || name[0] == 1) {
			if root && name[0] == 0 {
				rec.name = "."
				out = append(out, rec)
			}
			continue
		}
		name = strings.TrimSuffix(name, ";1")
		rec.name = strings.TrimSuffix(name, ".")
		out = append(out, rec)
	}
	return out, nil
}
