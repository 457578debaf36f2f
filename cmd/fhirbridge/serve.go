package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/fhirbridge/fhirbridge/internal/server"
	"github.com/fhirbridge/fhirbridge/internal/sink"
)

const serveUsage = `Usage: fhirbridge serve [flags]

Serves conversions until interrupted (SIGINT or SIGTERM), with one set of compiled mappings
behind two front doors.

HTTP (--http ADDR)
  POST /convert          the raw input as the body. The format comes from ?format=hl7v2|cda|
                         edifact, else the Content-Type (x-application/hl7-v2+er7,
                         application/xml, ...), else it is detected (text/plain,
                         application/octet-stream or none). ?bundleType= overrides the Bundle
                         type. One message answers its Bundle as application/fhir+json;
                         several answer application/fhir+ndjson.
  POST /$convert-data    the Microsoft FHIR-Converter request: a Parameters resource with
                         inputData, inputDataType (Hl7v2) and an optional rootTemplate (the
                         mapping is chosen from MSH-9; a different rootTemplate is reported
                         in a Warning header). Answers the Bundle.
  GET  /healthz          200, or 503 while shutting down. Never needs the token.
  GET  /metrics          Prometheus text format: requests, latency histograms, errors by
                         kind, messages converted, ACKs sent, MLLP connections.
  Errors are FHIR OperationOutcomes: 400 (bad input, with its location), 401 (token),
  413 (--max-body), 415 (media type), 500 (no internal details). With --token-file every
  request but /healthz needs "Authorization: Bearer TOKEN"; with --tls-cert and --tls-key
  HTTP is served over TLS.

MLLP (--mllp ADDR)
  Accepts framed HL7 v2 messages (0x0B message 0x1C 0x0D) on many concurrent connections,
  converts each, writes its Bundle to the sink and answers an ACK built from the inbound
  MSH (sender and receiver swapped, MSA-2 = MSH-10):
    AA  the Bundle is durably stored (fsynced, or accepted by the FHIR server) — never before
    AE  the message could not be read or converted; ERR names the place (ERR-2) and the
        problem (ERR-3, table 0357; ERR-8 the text)
    AR  rejected: unsupported message type, frame larger than --max-frame, or the sink
        failed (send again later)
  A connection idle for --idle-timeout is closed.

SINKS (--sink)
  dir:PATH      one file per Bundle (named by control id and content hash; a resend
                replaces its file), written to a temporary name, fsynced and renamed
  ndjson:PATH   appended to one NDJSON file; concurrent messages are group-committed (one
                fsync per group)
  fhir:URL      POSTed as a transaction to a FHIR server base URL (a 2xx makes it durable);
                --sink-token-file adds a bearer token

Logs (stderr, log/slog) name paths, status codes, control ids and problem locations, never
message data. Settings can come from the serve: section of --config FILE.

Flags:
`

type serveFlags struct {
	fl                        *flag.FlagSet
	httpAddr, mllpAddr        string
	sinkSpec, sinkTokenFile   string
	tokenFile                 string
	tlsCert, tlsKey           string
	mllpTLS                   bool
	maxBody                   int64
	maxFrame, maxConns        int
	requestTimeout, idle      time.Duration
	readTimeout, shutdownWait time.Duration
	conv                      convOptions
	log                       logFlags
}

func newServeFlags(stderr io.Writer) *serveFlags {
	f := &serveFlags{fl: flag.NewFlagSet("serve", flag.ContinueOnError)}
	fl := f.fl
	fl.SetOutput(stderr)
	fl.StringVar(&f.httpAddr, "http", "127.0.0.1:8080", "HTTP listen `address` (empty: no HTTP)")
	fl.StringVar(&f.mllpAddr, "mllp", "", "MLLP listen `address`, e.g. 127.0.0.1:2575 (empty: no MLLP)")
	fl.StringVar(&f.sinkSpec, "sink", "", "where MLLP Bundles go: dir:PATH, ndjson:PATH or fhir:URL (required with --mllp)")
	fl.StringVar(&f.sinkTokenFile, "sink-token-file", "", "`file` holding a bearer token for the fhir: sink")
	fl.StringVar(&f.tokenFile, "token-file", "", "`file` holding the bearer token HTTP requests must carry")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate `file` (PEM); with --tls-key serves HTTPS")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS private key `file` (PEM)")
	fl.BoolVar(&f.mllpTLS, "mllp-tls", false, "serve MLLP over TLS too (with --tls-cert and --tls-key)")
	fl.Int64Var(&f.maxBody, "max-body", 16<<20, "largest HTTP request body in bytes")
	fl.IntVar(&f.maxFrame, "max-frame", 16<<20, "largest MLLP frame in bytes")
	fl.IntVar(&f.maxConns, "max-conns", 256, "most concurrent MLLP connections")
	fl.DurationVar(&f.requestTimeout, "request-timeout", 30*time.Second, "time limit for converting one request or message")
	fl.DurationVar(&f.readTimeout, "read-timeout", 60*time.Second, "time limit for reading an HTTP request")
	fl.DurationVar(&f.idle, "idle-timeout", 5*time.Minute, "close MLLP (and keep-alive HTTP) connections idle this long")
	fl.DurationVar(&f.shutdownWait, "shutdown-timeout", 30*time.Second, "time in-flight requests get to finish at shutdown")
	f.conv.add(fl)
	f.log.add(fl)
	fl.StringVar(&configFile, "config", configFile, "YAML config `file` (section serve:, keys named after the flags)")
	fl.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fl.PrintDefaults()
	}
	return f
}

func readSecret(name string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("%s is empty", name)
	}
	return t, nil
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newServeFlags(stderr)
	fl := f.fl
	if err := fl.Parse(args); err != nil {
		return errUsage
	}
	if fl.NArg() > 0 {
		fl.Usage()
		return errUsage
	}
	if err := applyConfig(fl, "serve"); err != nil {
		fmt.Fprintln(stderr, "fhirbridge serve:", err)
		return errUsage
	}
	usageErr := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "fhirbridge serve: "+format+"\n", a...)
		return errUsage
	}
	if f.httpAddr == "" && f.mllpAddr == "" {
		return usageErr("nothing to serve: give --http or --mllp")
	}
	if f.mllpAddr != "" && f.sinkSpec == "" {
		return usageErr("--mllp needs --sink (dir:PATH, ndjson:PATH or fhir:URL): ACKs promise stored Bundles")
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageErr("--tls-cert and --tls-key go together")
	}
	if f.mllpTLS && f.tlsCert == "" {
		return usageErr("--mllp-tls needs --tls-cert and --tls-key")
	}
	log, err := f.log.logger(stderr)
	if err != nil {
		return err
	}
	copts, err := f.conv.options()
	if err != nil {
		return err
	}
	cfg := server.Config{Options: copts, MaxBody: f.maxBody, MaxFrame: f.maxFrame, MaxConns: f.maxConns,
		RequestTimeout: f.requestTimeout, IdleTimeout: f.idle, Logger: log}
	if f.tokenFile != "" {
		if cfg.Token, err = readSecret(f.tokenFile); err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
	}
	if f.sinkSpec != "" {
		sk, err := sink.Open(f.sinkSpec)
		if err != nil {
			return err
		}
		if fs, ok := sk.(*sink.FHIR); ok {
			if cfg.Options.BundleType == "" {
				cfg.Options.BundleType = "transaction"
			}
			if f.sinkTokenFile != "" {
				if fs.Token, err = readSecret(f.sinkTokenFile); err != nil {
					return fmt.Errorf("--sink-token-file: %w", err)
				}
			}
		}
		defer sk.Close()
		cfg.Sink = sk
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	var tlsCfg *tls.Config
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if f.httpAddr != "" {
		ln, err := net.Listen("tcp", f.httpAddr)
		if err != nil {
			return err
		}
		scheme := "http"
		if tlsCfg != nil {
			ln = tls.NewListener(ln, tlsCfg)
			scheme = "https"
		}
		hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: f.readTimeout,
			WriteTimeout: f.requestTimeout + f.readTimeout, IdleTimeout: f.idle, MaxHeaderBytes: 64 << 10}
		log.Info("serving HTTP", "url", scheme+"://"+ln.Addr().String())
		wg.Go(func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("http: %w", err)
				cancel()
			}
		})
		wg.Go(func() {
			<-runCtx.Done()
			sctx, scancel := context.WithTimeout(context.Background(), f.shutdownWait)
			defer scancel()
			if err := hs.Shutdown(sctx); err != nil {
				log.Warn("http shutdown: requests still running were cut", "err", err)
			}
		})
	}
	if f.mllpAddr != "" {
		ln, err := net.Listen("tcp", f.mllpAddr)
		if err != nil {
			cancel()
			wg.Wait()
			return err
		}
		if f.mllpTLS {
			ln = tls.NewListener(ln, tlsCfg)
		}
		log.Info("serving MLLP", "addr", ln.Addr().String(), "sink", cfg.Sink.String(), "tls", f.mllpTLS)
		wg.Go(func() {
			if err := srv.ServeMLLP(runCtx, ln); err != nil {
				errs <- fmt.Errorf("mllp: %w", err)
				cancel()
			}
		})
	}
	<-runCtx.Done()
	srv.BeginShutdown()
	log.Info("shutting down: finishing in-flight requests and messages")
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	log.Info("stopped")
	return errors.Join(all...)
}
