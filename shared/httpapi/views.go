package httpapi

import "creditanalysis/shared/credit"

// Each answer has a view type of its own, next to its handler, so that the
// domain's types say nothing about JSON and a field added to the domain
// reaches callers only when a view shows it. The views shared by several
// areas live here.

// actorView is who did something, as every answer names them: the subject
// and, when known, the name; never the roles.
type actorView struct {
	Subject string `json:"sub"`
	Name    string `json:"name,omitempty"`
}

func viewActor(a credit.Actor) actorView { return actorView{Subject: a.Subject, Name: a.Name} }

// viewAll maps a list to its views; never nil, so that a list answers [].
func viewAll[T, V any](items []T, view func(T) V) []V {
	out := make([]V, len(items))
	for i, it := range items {
		out[i] = view(it)
	}
	return out
}
