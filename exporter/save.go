package exporter

import "strconv"

// save writes what changed since the last save to the checkpoint's
// journal, or a snapshot of everything when the journal has outgrown the
// last one; it logs when saving starts and stops failing rather than at
// every round.
func (e *Exporter) save() error {
	e.mu.Lock()
	if e.ckpt == nil {
		// Nothing to write to: what changed is forgotten, or it would
		// pile up for a save that never comes.
		e.savedLocked()
		e.mu.Unlock()
		return nil
	}
	var n int64
	var err error
	if e.ckpt.needsSnapshot() {
		n, err = e.ckpt.writeSnapshot(e.snapshotLocked())
	} else {
		n, err = e.ckpt.appendRecord(e.changesLocked())
	}
	if err == nil {
		e.savedLocked()
	}
	e.mu.Unlock()
	return e.saved(n, err)
}

// saveSnapshot writes a snapshot of everything.
func (e *Exporter) saveSnapshot() error {
	e.mu.Lock()
	n, err := e.ckpt.writeSnapshot(e.snapshotLocked())
	if err == nil {
		e.savedLocked()
	}
	e.mu.Unlock()
	return e.saved(n, err)
}

func (e *Exporter) saved(n int64, err error) error {
	e.metrics.checkpointBytes.Add(float64(n))
	if err != nil {
		e.metrics.checkpointFailures.Inc()
		if e.saveErr.Swap(&err) == nil {
			e.logger.Error("writing the checkpoint failed; not ready until it works again", "err", err)
		}
		return err
	}
	e.metrics.checkpointLastSuccess.Set(unixSeconds(e.now()))
	if e.saveErr.Swap(nil) != nil {
		e.logger.Info("writing the checkpoint works again")
	}
	return nil
}

// floorLocked is the oldest cursor of every stream that has one (Unix
// ms; 0: none has).
func (e *Exporter) floorLocked() int64 {
	var floor int64
	note := func(c int64) {
		if c != 0 && (floor == 0 || c < floor) {
			floor = c
		}
	}
	for _, s := range e.streams {
		note(unixMs(s.cursor))
	}
	for _, rec := range e.pending {
		note(rec.Cursor)
	}
	return floor
}

// changesLocked is the journal record of what changed since the last
// save: the streams that saw new IDs or whose cursor must be written,
// the functions that counted something.
func (e *Exporter) changesLocked() *stateRecord {
	d := &stateRecord{Seq: e.ckpt.seq + 1, Floor: e.floorLocked(),
		Streams: map[string]*streamRecord{}, Functions: map[string]*functionRecord{}}
	for key, s := range e.streams {
		if len(s.added) == 0 && !s.cursorChanged {
			continue
		}
		rec := s.record(false)
		rec.Seen = make(map[string]int64, len(s.added))
		for _, id := range s.added {
			if at, ok := s.seen[id]; ok {
				rec.Seen[id] = at
			}
		}
		d.Streams[key] = rec
	}
	for key, f := range e.fns {
		if f.dirty {
			d.Functions[key] = f.record(false)
		}
	}
	return d
}

// snapshotLocked is everything the exporter knows.
func (e *Exporter) snapshotLocked() *stateRecord {
	s := &stateRecord{Seq: e.ckpt.seq + 1, Floor: e.floorLocked(),
		Streams: make(map[string]*streamRecord, len(e.streams)+len(e.pending)), Functions: make(map[string]*functionRecord, len(e.fns))}
	for key, rec := range e.pending {
		s.Streams[key] = rec
	}
	for key, st := range e.streams {
		s.Streams[key] = st.record(true)
	}
	for key, f := range e.fns {
		s.Functions[key] = f.record(true)
	}
	return s
}

// savedLocked marks everything as written.
func (e *Exporter) savedLocked() {
	for _, s := range e.streams {
		s.added, s.cursorChanged = nil, false
	}
	for _, f := range e.fns {
		f.dirty, f.hours.changed = false, nil
	}
}

// record is s's checkpoint entry, with every seen ID when all is set.
func (s *stream) record(all bool) *streamRecord {
	rec := &streamRecord{Cursor: unixMs(s.cursor), Newest: unixMs(s.newest)}
	if all {
		rec.Seen = make(map[string]int64, len(s.seen))
		for id, at := range s.seen {
			rec.Seen[id] = at
		}
	}
	return rec
}

// record is f's checkpoint entry, with every hour of its window when all
// is set, else those that changed.
func (f *fnState) record(all bool) *functionRecord {
	rec := &functionRecord{Counts: map[string]float64{}, BilledSeconds: f.billed, Retries: f.retries, LastRun: unixMs(f.lastRun)}
	for i, n := range f.counts {
		if n != 0 {
			rec.Counts[outcomes[i]] = n
		}
	}
	hour := func(b hourBucket) {
		if rec.Hours == nil {
			rec.Hours = map[string][3]float64{}
		}
		rec.Hours[strconv.FormatInt(b.hour, 10)] = [3]float64{b.executions, b.successes, b.durationMs}
	}
	if all {
		for _, b := range f.hours.ring {
			if b.hour != 0 {
				hour(b)
			}
		}
		return rec
	}
	for h := range f.hours.changed {
		hour(f.hours.bucket(h))
	}
	return rec
}
