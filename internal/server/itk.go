package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/internal/sink"
	"github.com/fhirbridge/fhirbridge/parsers/cda"
)

// handleITK is POST /itk/report: a drop-in receiver for NHS 111 / IUC senders. It accepts the
// SOAP 1.1 request (WS-Addressing + ITK DistributionEnvelope + CDA), converts every payload,
// writes the Bundles to the sink, and answers `OK:<MessageID>`; a request that is not valid
// XML or breaks the ITK envelope rules gets a SOAP Fault with ITK code 1000, anything else
// code 2200 without internal error text. The fault is sent before anything is stored, and the
// OK only after every Bundle is durably written.
func (s *Server) handleITK(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	fault := func(err error) {
		s.metrics.errorKind("itk")
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(fhirbridge.ITKErrorResponse(fhirbridge.ITKFaultFor(err)))
	}
	env, _, err := cda.ReadEnvelope(bytes.NewReader(body), len(body)+1)
	if err != nil {
		fault(err)
		return
	}
	if err := env.Check(); err != nil {
		fault(err)
		return
	}
	conv, err := s.converter(convKey{}, nil)
	if err != nil {
		fault(err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	var bundles []*fhirbridge.Result
	for res, err := range conv.Convert(ctx, bytes.NewReader(body)) {
		if err != nil {
			var pe *cda.ParseError
			if errors.As(err, &pe) {
				fault(err)
			} else {
				fault(errors.New("conversion failed")) // 2200, nothing echoed
			}
			return
		}
		bundles = append(bundles, res)
	}
	if s.cfg.Sink != nil {
		for _, res := range bundles {
			if err := s.cfg.Sink.Write(ctx, sink.Record{Bundle: res.JSON(), ControlID: env.MessageID}); err != nil {
				s.log.Error("sink write failed", "sink", s.cfg.Sink.String(), "messageId", env.MessageID, "err", err)
				fault(errors.New("sink failed"))
				return
			}
		}
	}
	s.metrics.convertedN("itk", len(bundles))
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(fhirbridge.ITKOKResponse("", env.MessageID, env.Action))
}
