package budget

import (
	"context"
	"slices"
)

type projectKey struct{}

// WithProject marks the upstream calls made under ctx as project's: the
// budgets share their slots fairly among the projects waiting for them.
func WithProject(ctx context.Context, project string) context.Context {
	return context.WithValue(ctx, projectKey{}, project)
}

// ProjectOf is the project WithProject put on ctx; "" if none, which the
// budgets treat as a project of its own.
func ProjectOf(ctx context.Context) string {
	p, _ := ctx.Value(projectKey{}).(string)
	return p
}

// Weights are the projects' shares of a budget while they all wait for
// it: a project of weight 2 is served twice as often as one of weight 1.
// A project not named has weight 1.
type Weights map[string]int

// MaxWeight bounds a weight: a turn costs a project strideUnit/weight of
// virtual time, which must stay a whole number that rounds little.
const MaxWeight = 1000

// strideUnit is the virtual time a turn costs a project of weight 1.
const strideUnit = 1 << 20

func (w Weights) stride(project string) uint64 {
	n, ok := w[project]
	if !ok || n < 1 {
		n = 1
	}
	return strideUnit / uint64(min(n, MaxWeight))
}

// place is where a waiter queues: its project's line, at its priority.
type place struct {
	project string
	prio    Priority
}

// waitQueue is one process's line of callers for a limiter. The projects
// with waiters take turns in proportion to their weights (stride
// scheduling: each has a pass, the virtual time of its next turn, and the
// lowest pass goes next, then moves on by its stride, which is inversely
// proportional to its weight); inside a project, Interactive goes ahead
// of Background, FIFO within each. A project alone gets every turn.
//
// A project that starts waiting joins at the virtual time of the last
// turn, so it is served within one round however long the others' lines
// are; one that stops waiting and comes back keeps the pass it had if that
// is later, so leaving and rejoining gains nothing. The zero queue gives
// every project weight 1. Its owner's mutex guards it.
type waitQueue[W comparable] struct {
	weights Weights
	lines   map[string]*line[W] // the projects with waiters
	// passes remembers the pass of a project that stopped waiting ahead of
	// virtual time; forgotten once virtual time passes it.
	passes  map[string]uint64
	virtual uint64 // the pass of the last turn served
	joins   uint64 // orders the lines with equal passes: the first to join first
	n       int
}

// line is one project's waiters.
type line[W comparable] struct {
	waiters [2][]W // by Priority
	pass    uint64
	joined  uint64
}

func (l *line[W]) len() int { return len(l.waiters[Interactive]) + len(l.waiters[Background]) }

func (l *line[W]) head() W {
	if len(l.waiters[Interactive]) > 0 {
		return l.waiters[Interactive][0]
	}
	return l.waiters[Background][0]
}

// before says whether l's turn at pass comes before o's at oPass.
func (l *line[W]) before(pass uint64, o *line[W], oPass uint64) bool {
	return pass < oPass || pass == oPass && l.joined < o.joined
}

func (q *waitQueue[W]) push(at place, w W) {
	if q.lines == nil {
		q.lines, q.passes = map[string]*line[W]{}, map[string]uint64{}
	}
	l, ok := q.lines[at.project]
	if !ok {
		l = q.join(at.project)
		q.lines[at.project] = l
	}
	l.waiters[at.prio] = append(l.waiters[at.prio], w)
	q.n++
}

// join is the line of a project that starts waiting.
func (q *waitQueue[W]) join(project string) *line[W] {
	q.joins++
	l := &line[W]{pass: max(q.virtual, q.passes[project]), joined: q.joins}
	delete(q.passes, project)
	return l
}

// remove takes w out, if still there: a waiter that gave up.
func (q *waitQueue[W]) remove(at place, w W) { q.takeOut(at, w, false) }

// served takes out w, which was granted a slot without being popped (a
// replica's first waiter tries Redis itself): its project's turn all the
// same.
func (q *waitQueue[W]) served(at place, w W) { q.takeOut(at, w, true) }

// takeOut removes w, if still there, charging its project a turn if it
// was served.
func (q *waitQueue[W]) takeOut(at place, w W, turn bool) {
	l, ok := q.lines[at.project]
	if !ok {
		return
	}
	i := slices.Index(l.waiters[at.prio], w)
	if i < 0 {
		return
	}
	l.waiters[at.prio] = slices.Delete(l.waiters[at.prio], i, i+1)
	q.n--
	if turn {
		q.charge(at.project, l)
	} else {
		q.leaveIfEmpty(at.project, l)
	}
}

func (q *waitQueue[W]) leaveIfEmpty(project string, l *line[W]) {
	if l.len() > 0 {
		return
	}
	delete(q.lines, project)
	if l.pass > q.virtual {
		q.passes[project] = l.pass
	}
	if q.n == 0 {
		// Nobody waits, so nobody is owed a turn: start virtual time over.
		q.virtual, q.joins = 0, 0
		clear(q.passes)
	}
}

func (q *waitQueue[W]) len() int { return q.n }

// next is the project whose line is served next.
func (q *waitQueue[W]) next() (string, *line[W], bool) {
	var best *line[W]
	var bestProject string
	for project, l := range q.lines {
		if best == nil || l.before(l.pass, best, best.pass) {
			best, bestProject = l, project
		}
	}
	return bestProject, best, best != nil
}

// head is the waiter served next.
func (q *waitQueue[W]) head() (W, bool) {
	_, l, ok := q.next()
	if !ok {
		var none W
		return none, false
	}
	return l.head(), true
}

// pop takes the waiter served next: its project's turn.
func (q *waitQueue[W]) pop() (W, bool) {
	project, l, ok := q.next()
	if !ok {
		var none W
		return none, false
	}
	p := Interactive
	if len(l.waiters[Interactive]) == 0 {
		p = Background
	}
	w := l.waiters[p][0]
	l.waiters[p] = l.waiters[p][1:]
	q.n--
	q.charge(project, l)
	return w, true
}

// charge moves virtual time to the turn of project's line l just served,
// and l to its next.
func (q *waitQueue[W]) charge(project string, l *line[W]) {
	q.virtual = l.pass
	l.pass += q.weights.stride(project)
	for pr, pass := range q.passes {
		if pass <= q.virtual {
			delete(q.passes, pr)
		}
	}
	q.leaveIfEmpty(project, l)
}

// ahead counts the waiters served before a newcomer at at, as the queue
// stands: the ones ahead of it in its project's line, and every other
// project's turns that come before its own.
func (q *waitQueue[W]) ahead(at place) int {
	own, ok := q.lines[at.project]
	if !ok {
		own = &line[W]{pass: max(q.virtual, q.passes[at.project]), joined: q.joins + 1}
	}
	k := len(own.waiters[Interactive])
	if at.prio == Background {
		k += len(own.waiters[Background])
	}
	turn := own.pass + uint64(k)*q.weights.stride(at.project)
	n := k
	for project, l := range q.lines {
		if l == own {
			continue
		}
		stride := q.weights.stride(project)
		for j := 0; j < l.len() && l.before(l.pass+uint64(j)*stride, own, turn); j++ {
			n++
		}
	}
	return n
}
