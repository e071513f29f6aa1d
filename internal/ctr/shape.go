package ctr

import (
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// kind is what a field connect-ingest reads must hold. JSON null is allowed
// for every kind: the decoder leaves the field at its zero value.
type kind uint8

const (
	kindAny    kind = iota // a field connect-ingest does not read
	kindString             // a string
	kindTime               // an RFC 3339 timestamp in a string
	kindObject             // an object with fields of their own shapes
	kindArray              // an array of elements of one shape
	kindMap                // an object whose members are all of one shape
)

// shape is the JSON shape of one field of the CTR model, derived from the
// model's Go types (see shapeOf), so that the strict scan checks exactly the
// types the decoder would refuse.
type shape struct {
	kind kind
	// name is the field's JSON name, for messages.
	name string
	// fields are an object's fields by their lower-case ASCII names; names
	// lists them for keys that only a Unicode fold matches.
	fields map[string]*shape
	names  []*shape
	// longest is the length of the longest of fields' names.
	longest int
	// elem is what each element of an array or member of a map holds.
	elem *shape
	// routed marks a top-level field routing reads (see routedKeys).
	routed int
}

// ctrShape is the shape of a CTR, from the CTR model.
var ctrShape = func() *shape {
	s := shapeOf(reflect.TypeFor[CTR](), "the record")
	for i, name := range routedKeys {
		f := s.fields[strings.ToLower(name)]
		if f == nil || f.name != name {
			panic("ctr: routed key " + name + " is not in the CTR model")
		}
		f.routed = i + 1
	}
	return s
}()

var timeType = reflect.TypeFor[time.Time]()

// shapeOf derives the JSON shape of a model type. The model holds strings,
// timestamps, structs of them, slices of structs and string maps; any other
// type is a programming error, caught when the package loads.
func shapeOf(t reflect.Type, name string) *shape {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return &shape{kind: kindTime, name: name}
	case t.Kind() == reflect.String:
		return &shape{kind: kindString, name: name}
	case t.Kind() == reflect.Slice:
		return &shape{kind: kindArray, name: name, elem: shapeOf(t.Elem(), name)}
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		return &shape{kind: kindMap, name: name, elem: shapeOf(t.Elem(), name)}
	case t.Kind() == reflect.Struct:
		s := &shape{kind: kindObject, name: name, fields: map[string]*shape{}}
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "" || tag == "-" || !f.IsExported() {
				panic(fmt.Sprintf("ctr: model field %s.%s needs a json name", t.Name(), f.Name))
			}
			fs := shapeOf(f.Type, tag)
			s.fields[strings.ToLower(tag)] = fs
			s.names = append(s.names, fs)
			s.longest = max(s.longest, len(tag))
		}
		if s.longest > len((*[64]byte)(nil)) {
			panic(fmt.Sprintf("ctr: model type %s has a field name longer than field's scratch space", t.Name()))
		}
		return s
	}
	panic(fmt.Sprintf("ctr: model type %s has no JSON shape", t))
}

// field returns the field of object shape s that key names under the
// case-insensitive matching of either decoder (Go's encoding/json folds
// Unicode, go-json folds ASCII), or nil. Matching the wider of the two
// means the scan checks every member a decoder could store.
func (s *shape) field(key []byte, lower *[64]byte) *shape {
	ascii := true
	for _, c := range key {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		if len(key) > s.longest {
			return nil
		}
		for i, c := range key {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		return s.fields[string(lower[:len(key)])]
	}
	// A fold changes a character's length by at most two bytes (U+212A
	// KELVIN SIGN for 'k', U+017F for 's').
	if len(key) > 3*s.longest {
		return nil
	}
	for _, f := range s.names {
		if strings.EqualFold(string(key), f.name) {
			return f
		}
	}
	return nil
}
