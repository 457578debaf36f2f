//go:build race

package batch

func init() { raceFactor = 3 }
